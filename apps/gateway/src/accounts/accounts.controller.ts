import { Body, Controller, Get, HttpCode, Inject, Param, Post, Query } from '@nestjs/common';
import { ApiBody, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Answer, REPLAYED, location } from '../docs/operations.js';
import { ApiProblems, BODY_PROBLEMS, KEY_PROBLEMS, PATH_PROBLEMS, QUERY_PROBLEMS } from '../docs/problems.js';
import { DataSource } from 'typeorm';
import { AccountNotFoundError, hasIdPrefix } from '#domain';
import { AccountRepository, LedgerEntryRepository } from '#persistence';
import { AllowCustomer, ownAccount } from '../auth/access.js';
import type { Tenant } from '../auth/api-key.guard.js';
import { CurrentTenant } from '../auth/current-tenant.decorator.js';
import { Idempotent, idempotentWrite, type IdempotentWrite } from '../idempotency/idempotent.js';
import { PageQuery, decodeCursor, pageOf } from '../http/pagination.js';
import { presentAccount, presentEntry } from './account.presenter.js';
import {
  ACCOUNT_EXAMPLE,
  ACCOUNT_ID,
  AccountPage,
  AccountParams,
  AccountView,
  CreateAccountDto,
  EntryPage,
  ListAccountsQuery,
} from './accounts.dto.js';

const isAccountId = (id: string) => hasIdPrefix(id, 'acc');

@ApiTags('Accounts')
@Controller('v1/accounts')
export class AccountsController {
  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(AccountRepository) private readonly accounts: AccountRepository,
    @Inject(LedgerEntryRepository) private readonly entries: LedgerEntryRepository,
  ) {}

  @Post()
  @HttpCode(201)
  @ApiOperation({ operationId: 'createAccount', summary: 'Open an account' })
  @Idempotent({ required: false })
  @ApiBody({
    type: CreateAccountDto,
    examples: { account: { value: { currency: 'USD', externalRef: 'user_42', lowBalanceThreshold: 500 } } },
  })
  @Answer(201, AccountView, 'Created', {
    example: ACCOUNT_EXAMPLE,
    headers: { ...location(`/v1/accounts/${ACCOUNT_ID}`), ...REPLAYED },
  })
  @ApiProblems(...BODY_PROBLEMS, 'external_ref_taken', ...KEY_PROBLEMS)
  create(@CurrentTenant() tenant: Tenant, @Body() input: CreateAccountDto): IdempotentWrite {
    return idempotentWrite(async (manager) => {
      const account = await this.accounts.create(manager, {
        tenantId: tenant.tenantId,
        currency: input.currency,
        externalRef: input.externalRef ?? null,
        metadata: input.metadata ?? {},
        lowBalanceThreshold: input.lowBalanceThreshold ?? null,
      });
      return {
        status: 201,
        body: presentAccount(account),
        headers: { Location: `/v1/accounts/${account.id}` },
      };
    });
  }

  @Get()
  @ApiOperation({ operationId: 'listAccounts', summary: 'List accounts, newest first' })
  @Answer(200, AccountPage, 'A page of accounts', { example: { data: [ACCOUNT_EXAMPLE], nextCursor: null } })
  @ApiProblems(...QUERY_PROBLEMS)
  async list(@CurrentTenant() tenant: Tenant, @Query() q: ListAccountsQuery) {
    const limit = q.limit ?? 20;
    const rows = await this.accounts.list(this.dataSource.manager, tenant.tenantId, {
      externalRef: q.externalRef,
      before: decodeCursor(q.cursor, isAccountId),
      limit: limit + 1,
    });
    return pageOf(rows, limit, (a) => a.id, presentAccount);
  }

  @Get(':id')
  @AllowCustomer('account:read', ownAccount.param())
  @ApiOperation({ operationId: 'getAccount', summary: 'Get an account and its balance' })
  @Answer(200, AccountView, 'The account', { example: ACCOUNT_EXAMPLE })
  @ApiProblems(...PATH_PROBLEMS, 'account_not_found')
  async get(@CurrentTenant() tenant: Tenant, @Param() { id }: AccountParams) {
    return presentAccount(await this.load(tenant, id));
  }

  @Get(':id/entries')
  @ApiOperation({ operationId: 'listEntries', summary: "List an account's ledger entries, newest first" })
  @Answer(200, EntryPage, 'A page of entries')
  @ApiProblems(...PATH_PROBLEMS, ...QUERY_PROBLEMS, 'account_not_found')
  async listEntries(@CurrentTenant() tenant: Tenant, @Param() { id }: AccountParams, @Query() q: PageQuery) {
    await this.load(tenant, id);
    const limit = q.limit ?? 20;
    const before = decodeCursor(q.cursor, (p) => /^\d{1,19}$/.test(p));
    const rows = await this.entries.listForAccount(this.dataSource.manager, id, {
      beforeSeq: before === undefined ? undefined : BigInt(before),
      limit: limit + 1,
    });
    return pageOf(rows, limit, (e) => e.seq.toString(), presentEntry);
  }

  private async load(tenant: Tenant, id: string) {
    const account = isAccountId(id)
      ? await this.accounts.find(this.dataSource.manager, tenant.tenantId, id)
      : null;
    if (!account) throw new AccountNotFoundError(id);
    return account;
  }
}
