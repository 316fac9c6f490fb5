import { ApiProperty } from '@nestjs/swagger';
import { ACCOUNT_ID } from '../accounts/accounts.dto.js';
import { ResourceId, Text } from '../http/fields.js';
import { ACCESS_TOKEN_TTL_SECONDS } from './customer-sessions.js';

const REFRESH_TOKEN = 'csr_ten_01JD3Z5PQR8S9T0V1W2X3Y4Z5A.Jm3v0c9yQ2oWk8e4tXl1bR7dN5sHf6gZ0aPqUyViTcE';

/** POST /v1/customer-sessions */
export class OpenCustomerSessionDto {
  @ResourceId(ACCOUNT_ID, { description: 'The account the storefront acts for: one of this tenant’s.' })
  accountId!: string;
}

/** POST /v1/customer-sessions/refresh */
export class RefreshCustomerSessionDto {
  @Text(1, 512, {
    description: 'The refresh token of the last pair (each is used once).',
    example: REFRESH_TOKEN,
  })
  refreshToken!: string;
}

export class CustomerTokensView {
  @ApiProperty({
    description:
      'A JWT (HS256) for `Authorization: Bearer`, bound to the tenant, the account and the session; valid 15 minutes.',
    example: 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ0aWQiOiJ0ZW5fMDEi…',
  })
  accessToken!: string;

  @ApiProperty({
    description:
      'Opaque; exchanges once for a new pair at POST /v1/customer-sessions/refresh. Keep it secret: a used one presented again revokes the session.',
    example: REFRESH_TOKEN,
  })
  refreshToken!: string;

  @ApiProperty({
    type: 'integer',
    description: 'Seconds until the access token expires.',
    example: ACCESS_TOKEN_TTL_SECONDS,
  })
  expiresIn!: number;
}

export const TOKENS_EXAMPLE = {
  accessToken:
    'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ0aWQiOiJ0ZW5fMDFKRDNaNVBRUjhTOVQwVjFXMlgzWTRaNUEiLCJzaWQiOiJjc18wMUpEM1o4UTRONlYzRjVXN1g5WTFBMkIzQyIsInNjb3BlIjoicHJvZHVjdHM6cmVhZCBhY2NvdW50OnJlYWQgb3JkZXJzOnJlYWQgb3JkZXJzOndyaXRlIHJhdGluZ3M6d3JpdGUiLCJpc3MiOiJ0YWxseS1nYXRld2F5IiwiYXVkIjoidGFsbHktc3RvcmVmcm9udCIsInN1YiI6ImFjY18wMUpEM1o4UTRONlYzRjVXN1g5WTFBMkIzQyIsImlhdCI6MTc5NTI2MjQwMCwiZXhwIjoxNzk1MjYzMzAwfQ.3q1Nn4kY4pB6d0H8eC2rQv9wXo7mLs5tUa1ZyGfJkE0',
  refreshToken: REFRESH_TOKEN,
  expiresIn: ACCESS_TOKEN_TTL_SECONDS,
};
