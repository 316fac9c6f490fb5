import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { SystemAccountKind } from '#domain';
import { AccountRepository } from '#persistence';

/**
 * Each tenant's system accounts per currency (the outside world, revenue). They never change once
 * created, so their ids are remembered; they are created in a transaction of their own (committed
 * at once), never rolled back with a failed batch.
 */
@Injectable()
export class SystemAccounts {
  private readonly ids = new Map<string, string>();

  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(AccountRepository) private readonly accounts: AccountRepository,
  ) {}

  async id(tenantId: string, currency: string, kind: SystemAccountKind): Promise<string> {
    const key = `${tenantId}/${currency}/${kind}`;
    let id = this.ids.get(key);
    if (!id) {
      id = await this.accounts.systemAccountId(this.dataSource.manager, tenantId, currency, kind);
      this.ids.set(key, id);
    }
    return id;
  }
}
