import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsEmail, IsOptional, IsString, Length, ValidateIf } from 'class-validator';
import { Before, Limit, NextBefore, OptionalOneOf, PathId, Text } from '../http/fields.js';

const TENANT_ID = 'ten_01JDQ8Y4T9M2K3N4P5Q6R7S8T9';
const KEY_ID = 'key_01JDQ8Y4T9M2K3N4P5Q6R7S8T9';
const STATUSES = ['active', 'disabled'] as const;

export class TenantParams {
  @PathId(TENANT_ID)
  id!: string;
}

export class ApiKeyParams extends TenantParams {
  @PathId(KEY_ID)
  keyId!: string;
}

export class TenantListQuery {
  @OptionalOneOf(STATUSES)
  status?: 'active' | 'disabled';

  @Before()
  before?: string;

  @Limit(100)
  limit?: number;
}

export class CreateTenantBody {
  @Text(1, 200, { example: 'Acme Games' })
  name!: string;

  @IsOptional()
  @IsEmail()
  @ApiPropertyOptional({ format: 'email', description: 'Where low-balance alerts are mailed.' })
  notificationEmail?: string;
}

export class NotificationEmailBody {
  @ValidateIf((body: NotificationEmailBody) => body.notificationEmail !== null)
  @IsEmail()
  @ApiProperty({
    type: 'string',
    format: 'email',
    nullable: true,
    description: 'null: no more alerts by email.',
  })
  notificationEmail!: string | null;
}

export class CreateApiKeyBody {
  @IsOptional()
  @Transform(({ value }) => (typeof value === 'string' ? value.trim() : value))
  @IsString()
  @Length(1, 100)
  @ApiPropertyOptional({ minLength: 1, maxLength: 100, example: 'ci' })
  name?: string;
}

export class TenantView {
  @ApiProperty({ example: TENANT_ID })
  id!: string;

  @ApiProperty({ example: 'Acme Games' })
  name!: string;

  @ApiProperty({ enum: STATUSES })
  status!: 'active' | 'disabled';

  @ApiProperty({ type: 'string', format: 'email', nullable: true })
  notificationEmail!: string | null;

  @ApiProperty({ type: 'string', format: 'date-time' })
  createdAt!: Date;

  @ApiProperty({ type: 'integer', description: 'API keys not revoked.' })
  activeKeys!: number;
}

export class TenantList {
  @ApiProperty({ type: [TenantView] })
  data!: TenantView[];

  @NextBefore()
  nextBefore!: string | null;
}

export class CreatedTenantView {
  @ApiProperty({ example: TENANT_ID })
  id!: string;

  @ApiProperty({ example: 'Acme Games' })
  name!: string;

  @ApiProperty({ enum: ['active'] })
  status!: 'active';

  @ApiProperty({ description: 'Its first API key ("default"), shown here only.', example: 'tk_…' })
  apiKey!: string;
}

export class TenantStatusView {
  @ApiProperty({ example: TENANT_ID })
  id!: string;

  @ApiProperty({ enum: STATUSES })
  status!: 'active' | 'disabled';
}

export class NotificationEmailView {
  @ApiProperty({ example: TENANT_ID })
  id!: string;

  @ApiProperty({ type: 'string', format: 'email', nullable: true })
  notificationEmail!: string | null;
}

export class ApiKeyView {
  @ApiProperty({ example: KEY_ID })
  id!: string;

  @ApiProperty({ description: 'The first characters of the key, to recognise it.', example: 'tk_Zx81aQ' })
  prefix!: string;

  @ApiProperty({ type: 'string', nullable: true, example: 'ci' })
  name!: string | null;

  @ApiProperty({ type: 'string', format: 'date-time' })
  createdAt!: Date;

  @ApiProperty({ type: 'string', format: 'date-time', nullable: true })
  lastUsedAt!: Date | null;

  @ApiProperty({ type: 'string', format: 'date-time', nullable: true })
  revokedAt!: Date | null;
}

export class ApiKeyList {
  @ApiProperty({ type: [ApiKeyView] })
  data!: ApiKeyView[];
}

export class CreatedApiKeyView {
  @ApiProperty({ example: KEY_ID })
  id!: string;

  @ApiProperty({ example: 'tk_Zx81aQ' })
  prefix!: string;

  @ApiProperty({ type: 'string', nullable: true, example: 'ci' })
  name!: string | null;

  @ApiProperty({ description: 'The key, shown here only.', example: 'tk_…' })
  apiKey!: string;
}

export class RevokedApiKeyView {
  @ApiProperty({ example: KEY_ID })
  id!: string;

  @ApiProperty({ enum: [true] })
  revoked!: true;
}
