import { Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { hasIdPrefix, newId, stringifyJson } from '#domain';
import { Commands } from '#messaging';
import { AccountRepository, OutboxStore, UsageRepository } from '#persistence';
import type { UsageEventDto } from './usage.dto.js';

export interface Rejection {
  index: number;
  code: string;
  message: string;
}

export interface IngestResult {
  /** Each event's id by index (given or assigned); null for a rejected one. */
  ids: (string | null)[];
  accepted: number;
  duplicates: number;
  rejected: Rejection[];
}

/**
 * Stores the valid events of a request that are new for the tenant (the raw audit trail) and one
 * `usage.recorded` command naming them, in the caller's database transaction. Ids already stored
 * (before, concurrently, or twice in this request) are duplicates: counted, never processed again.
 */
@Injectable()
export class IngestUsage {
  constructor(
    @Inject(AccountRepository) private readonly accounts: AccountRepository,
    @Inject(UsageRepository) private readonly usage: UsageRepository,
    @Inject(OutboxStore) private readonly outbox: OutboxStore,
  ) {}

  async execute(
    manager: EntityManager,
    tenant: { tenantId: string; apiKeyId: string | null },
    events: { index: number; event: UsageEventDto }[],
    rejected: Rejection[],
    correlationId: string | null,
  ): Promise<IngestResult> {
    const accountIds = [...new Set(events.map((e) => e.event.accountId).filter((id): id is string => !!id))];
    const known = await this.accounts.existing(
      manager,
      tenant.tenantId,
      accountIds.filter((id) => hasIdPrefix(id, 'acc')),
    );
    const valid: typeof events = [];
    for (const e of events) {
      const accountId = e.event.accountId;
      if (accountId && !known.has(accountId)) {
        rejected.push({
          index: e.index,
          code: 'account_not_found',
          message: `Account ${accountId} does not exist.`,
        });
      } else {
        valid.push(e);
      }
    }
    const receivedAt = new Date();
    // An event sent without an id gets one of ours: new, so never a duplicate.
    const ids = new Map(valid.map(({ index, event }) => [index, event.id ?? newId('evt')]));
    const stored = await this.usage.insertNew(
      manager,
      tenant.tenantId,
      valid.map(({ index, event }) => ({
        id: ids.get(index)!,
        type: event.type,
        accountId: event.accountId ?? null,
        occurredAt: event.timestamp ? new Date(event.timestamp) : receivedAt,
        propertiesJson: stringifyJson(event.properties ?? {}),
      })),
      { apiKeyId: tenant.apiKeyId, correlationId },
    );
    if (stored.length > 0) {
      await this.outbox.enqueue(manager, [
        Commands.usageRecorded({ tenantId: tenant.tenantId, eventIds: stored }, correlationId),
      ]);
    }
    rejected.sort((a, b) => a.index - b.index);
    const count = Math.max(0, ...events.map((e) => e.index + 1), ...rejected.map((r) => r.index + 1));
    return {
      ids: Array.from({ length: count }, (_, i) => ids.get(i) ?? null),
      accepted: stored.length,
      duplicates: valid.length - stored.length,
      rejected,
    };
  }
}
