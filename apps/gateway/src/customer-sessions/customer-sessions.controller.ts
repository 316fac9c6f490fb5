import { Body, Controller, HttpCode, Inject, Post } from '@nestjs/common';
import { ApiBody, ApiOperation, ApiTags } from '@nestjs/swagger';
import { NoCredentials } from '../auth/access.js';
import type { Tenant } from '../auth/api-key.guard.js';
import { CurrentTenant } from '../auth/current-tenant.decorator.js';
import { Answer, REPLAYED } from '../docs/operations.js';
import { ApiProblems, BODY_PROBLEMS, KEY_PROBLEMS } from '../docs/problems.js';
import { Idempotent, idempotentWrite, type IdempotentWrite } from '../idempotency/idempotent.js';
import { ACCOUNT_ID } from '../accounts/accounts.dto.js';
import { CustomerSessions } from './customer-sessions.js';
import {
  CustomerTokensView,
  OpenCustomerSessionDto,
  RefreshCustomerSessionDto,
  TOKENS_EXAMPLE,
} from './customer-sessions.dto.js';

/**
 * Storefront sessions (docs/api.md, "Customer sessions"). Opening one honours Idempotency-Key like
 * every POST; its answer holds the tokens, so it is kept sealed (as a webhook secret is).
 * Refreshing takes no key: it has no tenant to scope one to until the token is looked up, and a
 * refresh token is single-use by design.
 */
@ApiTags('Customer sessions')
@Controller('v1/customer-sessions')
export class CustomerSessionsController {
  constructor(@Inject(CustomerSessions) private readonly sessions: CustomerSessions) {}

  @Post()
  @HttpCode(201)
  @ApiOperation({
    operationId: 'openCustomerSession',
    summary: 'Open a session for a storefront customer',
    description:
      'Called by your backend with its API key, for an account of this tenant. Hand the pair to the browser or app: ' +
      'the access token (a JWT valid 15 minutes) may read products, also-bought and the account’s recommendations, read the ' +
      'account, place, read, list and cancel its orders, and rate products; anything else is 403 `forbidden`, another ' +
      'account’s order or account 404. The refresh token exchanges once for a new pair.',
  })
  @Idempotent({ required: false })
  @ApiBody({ type: OpenCustomerSessionDto, examples: { session: { value: { accountId: ACCOUNT_ID } } } })
  @Answer(201, CustomerTokensView, 'Opened: an access token and a refresh token', {
    example: TOKENS_EXAMPLE,
    headers: REPLAYED,
  })
  @ApiProblems(...BODY_PROBLEMS, 'account_not_found', ...KEY_PROBLEMS)
  open(@CurrentTenant() tenant: Tenant, @Body() input: OpenCustomerSessionDto): IdempotentWrite {
    return idempotentWrite(async (manager) => ({
      status: 201,
      body: await this.sessions.open(manager, tenant.tenantId, input.accountId),
      headers: {},
      secret: true,
    }));
  }

  @Post('refresh')
  @HttpCode(200)
  @NoCredentials('customer-refresh')
  @ApiOperation({
    operationId: 'refreshCustomerSession',
    summary: 'Exchange a refresh token for a new pair',
    description:
      'No credentials: the refresh token is one. It works once: the answer carries the next one. Presenting a used refresh ' +
      'token again revokes the whole session (401 `refresh_token_reused`): its newest access and refresh tokens stop ' +
      'working too. An unknown or expired token, or one of an ended session: 401 `unauthorized`. Rate-limited per client address.',
  })
  @ApiBody({
    type: RefreshCustomerSessionDto,
    examples: { refresh: { value: { refreshToken: TOKENS_EXAMPLE.refreshToken } } },
  })
  @Answer(200, CustomerTokensView, 'A new pair; the refresh token sent is spent', { example: TOKENS_EXAMPLE })
  @ApiProblems(...BODY_PROBLEMS, 'refresh_token_reused')
  refresh(@Body() input: RefreshCustomerSessionDto) {
    return this.sessions.refresh(input.refreshToken);
  }
}
