import { IsISO8601, IsNotEmpty, IsObject, IsOptional, IsString, ValidateBy } from 'class-validator';
import type { TallyEvent } from '#domain';

/** A whole number from 1 (a bigint past 2^53, as the lossless JSON parser gives it, or a number). */
const IsPositiveWholeNumber = () =>
  ValidateBy({
    name: 'isPositiveWholeNumber',
    validator: {
      validate: (v: unknown) =>
        typeof v === 'bigint' ? v > 0n : typeof v === 'number' && Number.isSafeInteger(v) && v > 0,
      defaultMessage: () => '$property must be a whole number from 1',
    },
  });

/** An outcome event as the notification app takes it from the queue. */
export class TallyEventMessage implements TallyEvent {
  @IsString()
  @IsNotEmpty()
  id!: string;

  @IsString()
  @IsNotEmpty()
  type!: string;

  @IsString()
  @IsNotEmpty()
  tenantId!: string;

  @IsISO8601({ strict: true })
  createdAt!: string;

  @IsObject()
  data!: Record<string, unknown>;

  @IsOptional()
  @IsPositiveWholeNumber()
  accountSeq?: bigint | number;
}
