import { ArrayMaxSize, IsArray, IsNotEmpty, IsString } from 'class-validator';
import { MAX_EVENTS_PER_BATCH, type UsageRecorded } from '#domain';

/** The `usage.recorded` and `usage.rebill_requested` commands as the worker takes them. */
export class UsageRecordedMessage implements UsageRecorded {
  @IsString()
  @IsNotEmpty()
  tenantId!: string;

  @IsArray()
  @ArrayMaxSize(MAX_EVENTS_PER_BATCH)
  @IsString({ each: true })
  eventIds!: string[];
}
