import { ApiProperty } from '@nestjs/swagger';
import { IsEmail, IsIn, IsString, Length } from 'class-validator';
import { ROLES, type Role } from './auth.service.js';

export class LoginBody {
  @IsString()
  @Length(3, 320)
  @ApiProperty({ example: 'ops@tally.example', minLength: 3, maxLength: 320 })
  email!: string;

  @IsString()
  @Length(1, 1000)
  @ApiProperty({ format: 'password', minLength: 1, maxLength: 1000 })
  password!: string;
}

export class RefreshBody {
  @IsString()
  @Length(10, 200)
  @ApiProperty({ description: 'The refresh token of the last pair.', minLength: 10, maxLength: 200 })
  refreshToken!: string;
}

export class CreateOperatorBody {
  @IsEmail()
  @ApiProperty({ format: 'email', example: 'new-operator@tally.example' })
  email!: string;

  @IsString()
  @Length(12, 1000)
  @ApiProperty({ format: 'password', minLength: 12, maxLength: 1000 })
  password!: string;

  @IsIn(ROLES)
  @ApiProperty({ enum: ROLES, description: 'viewer < operator < admin' })
  role!: Role;
}

export class TokensView {
  @ApiProperty({ description: 'Send as `Authorization: Bearer …`. A JWT (HS256).' })
  accessToken!: string;

  @ApiProperty({ description: 'Spent by `POST /admin/api/auth/refresh` for the next pair.', example: 'rt_…' })
  refreshToken!: string;

  @ApiProperty({ type: 'integer', description: 'Seconds the access token lasts.', example: 900 })
  expiresIn!: number;
}

export class OperatorView {
  @ApiProperty({ example: 'op_01JDQ8Y4T9M2K3N4P5Q6R7S8T9' })
  id!: string;

  @ApiProperty({ example: 'ops@tally.example' })
  email!: string;

  @ApiProperty({ enum: ROLES })
  role!: Role;
}

export class OperatorRowView extends OperatorView {
  @ApiProperty({ enum: ['active', 'disabled'] })
  status!: string;

  @ApiProperty({ type: 'string', format: 'date-time' })
  createdAt!: Date;
}

export class OperatorList {
  @ApiProperty({ type: [OperatorRowView] })
  data!: OperatorRowView[];
}
