import { hostname } from 'node:os';
import { Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { EventTypeLabels, assessUsage, newId, parseJson, type UsageRecorded } from '#domain';
import { Ledger, type LedgerCharge } from '#ledger';
import { MeterRepository, UsageRepository, type FailedUsage, type ProcessedUsage } from '#persistence';
import { EventSchemas } from './event-schemas.js';

/** Longest failure reason kept for a schema violation (its messages, joined). */
const MAX_REASON_CHARS = 2000;

export interface UsageOptions {
  /** An event whose value reaches this (minor units) is categorised `high_value`. */
  highValueThreshold: bigint;
}

export interface UsageOutcome {
  processed: number;
  failed: number;
  charged: number;
  unbilled: number;
  /** Per event handled: its metrics' type label (bounded), outcome, and when it was received. */
  observed: ObservedEvent[];
}

export interface ObservedEvent {
  type: string;
  outcome: 'processed' | 'failed';
  receivedAt: Date;
}

interface Charge {
  event: { id: string; type: string; correlationId: string | null };
  processed: ProcessedUsage;
}

/**
 * Processes a set of accepted usage events inside the caller's database transaction, with a fixed
 * number of statements whatever the set's size: claim the events still `received` (marked
 * processed, locked); load their meters; check each event's rules and price it (pure, in memory);
 * mark the ones that fail failed; write the processed rows, each priced one as charged by the
 * transaction id chosen for it; charge them through the ledger in order of occurrence; then
 * rewrite the rows of the charges a wallet could not pay as unbilled (the event stays processed).
 *
 * The ledger locks the wallets and the tenant's revenue account, which every batch of the tenant
 * shares, until the commit: so only what needs the balances runs after it. Writing the processed
 * rows there (500 rows, four foreign-key checks each) kept the next batch waiting for about 40 %
 * of the locked time (docs/performance.md). Their foreign key to `transactions` is checked at the
 * commit (DEFERRABLE INITIALLY DEFERRED, migration UsageChargesOutsideLock), once the charges exist.
 */
@Injectable()
export class ProcessUsage {
  readonly workerId = `${hostname()}:${process.pid}`;

  constructor(
    @Inject(UsageRepository) private readonly usage: UsageRepository,
    @Inject(MeterRepository) private readonly meters: MeterRepository,
    @Inject(Ledger) private readonly ledger: Ledger,
    @Inject(EventSchemas) private readonly schemas: EventSchemas,
    @Inject('USAGE_OPTIONS') private readonly options: UsageOptions,
  ) {}

  /** The bounded `type` label of this process's event metrics. */
  private readonly labels = new EventTypeLabels();

  async execute(manager: EntityManager, command: UsageRecorded): Promise<UsageOutcome> {
    const { tenantId } = command;
    const events = (await this.usage.claimReceived(manager, tenantId, command.eventIds)).sort(
      (a, b) => a.occurredAt.getTime() - b.occurredAt.getTime() || (a.id < b.id ? -1 : 1),
    );
    if (events.length === 0) return { processed: 0, failed: 0, charged: 0, unbilled: 0, observed: [] };
    const types = events.map((e) => e.type);
    const meters = await this.meters.forTypes(manager, tenantId, types);
    const validators = await this.schemas.validatorsFor(manager, tenantId, types);
    const observed: ObservedEvent[] = [];

    const processed: ProcessedUsage[] = [];
    const failed: FailedUsage[] = [];
    const charges: Charge[] = [];
    for (const event of events) {
      const type = this.labels.label(event.type, validators.has(event.type) || meters.has(event.type));
      // A registered type's schema first: an event that breaks it is refused whatever else it says.
      const violations = validators.get(event.type)?.(JSON.parse(event.propertiesJson) as unknown) ?? null;
      if (violations) {
        failed.push({
          tenantId,
          eventId: event.id,
          code: 'schema_violation',
          reason: violations.join('; ').slice(0, MAX_REASON_CHARS),
          workerId: this.workerId,
        });
        observed.push({ type, outcome: 'failed', receivedAt: event.receivedAt });
        continue;
      }
      const assessment = assessUsage(
        {
          id: event.id,
          type: event.type,
          accountId: event.accountId,
          properties: parseJson(event.propertiesJson) as Record<string, unknown>,
        },
        meters.get(event.type),
        this.options.highValueThreshold,
      );
      if (!assessment.ok) {
        failed.push({
          tenantId,
          eventId: event.id,
          code: assessment.code,
          reason: assessment.message,
          workerId: this.workerId,
        });
        observed.push({ type, outcome: 'failed', receivedAt: event.receivedAt });
        continue;
      }
      observed.push({ type, outcome: 'processed', receivedAt: event.receivedAt });
      const priced = assessment.priced;
      const row: ProcessedUsage = {
        tenantId,
        eventId: event.id,
        type: event.type,
        accountId: event.accountId,
        occurredAt: event.occurredAt,
        category: assessment.category,
        workerId: this.workerId,
        meterId: priced?.meterId ?? null,
        quantity: priced?.quantity ?? null,
        amount: priced?.amount ?? null,
        currency: priced?.currency ?? null,
        billingStatus: priced ? 'charged' : 'not_metered',
        unbilledCode: null,
        unbilledReason: null,
        transactionId: null,
      };
      processed.push(row);
      if (priced && priced.amount > 0n) {
        row.transactionId = newId('txn');
        charges.push({ event, processed: row });
      }
    }

    // Everything that does not need the balances before the charges (the class comment says why).
    await this.usage.markFailed(manager, tenantId, failed);
    await this.usage.insertProcessed(manager, tenantId, processed);
    const { charged, unbilled } = await this.charge(manager, tenantId, charges);
    await this.usage.setBilling(manager, tenantId, unbilled);
    return {
      processed: processed.length,
      failed: failed.length,
      charged,
      unbilled: unbilled.length,
      observed,
    };
  }

  /**
   * Charges events left unbilled again (an operator's re-bill, once the wallets can pay), at the
   * price they were given when processed. Locking their rows and taking only those still
   * `unbilled` makes it exactly-once: a re-bill sent twice, or racing another, charges each event
   * at most once; one that still cannot pay stays unbilled, with the new reason.
   */
  async rebill(manager: EntityManager, command: UsageRecorded): Promise<UsageOutcome> {
    const { tenantId } = command;
    const rows = (await this.usage.lockUnbilled(manager, tenantId, command.eventIds)).sort(
      (a, b) => a.occurredAt.getTime() - b.occurredAt.getTime() || (a.eventId < b.eventId ? -1 : 1),
    );
    const charges: Charge[] = [];
    for (const { correlationId, ...row } of rows) {
      row.billingStatus = 'charged';
      row.unbilledCode = null;
      row.unbilledReason = null;
      row.transactionId = newId('txn');
      charges.push({ event: { id: row.eventId, type: row.type, correlationId }, processed: row });
    }
    const { charged, unbilled } = await this.charge(manager, tenantId, charges);
    await this.usage.setBilling(
      manager,
      tenantId,
      charges.map((c) => c.processed),
    );
    return { processed: 0, failed: 0, charged, unbilled: unbilled.length, observed: [] };
  }

  /**
   * Charges the wallets through the ledger, in the given order against running balances, each
   * under the transaction id its row holds. A row whose wallet could not pay becomes unbilled (with
   * the reason, and no transaction); those rows are answered, for the caller to write.
   */
  private async charge(
    manager: EntityManager,
    tenantId: string,
    charges: Charge[],
  ): Promise<{ charged: number; unbilled: ProcessedUsage[] }> {
    const outcomes = await this.ledger.apply(manager, {
      kind: 'charges',
      tenantId,
      charges: charges.map(({ event, processed: row }): LedgerCharge => ({
        usageEvent: event,
        transactionId: row.transactionId!,
        walletId: row.accountId!,
        meterId: row.meterId,
        quantity: row.quantity!,
        amount: row.amount!,
        currency: row.currency!,
      })),
    });
    let charged = 0;
    const unbilled: ProcessedUsage[] = [];
    outcomes.forEach((outcome, i) => {
      const row = charges[i]!.processed;
      if (outcome.failure === null) {
        charged++;
      } else {
        row.billingStatus = 'unbilled';
        row.unbilledCode = outcome.failure.code;
        row.unbilledReason = outcome.failure.message;
        row.transactionId = null;
        unbilled.push(row);
      }
    });
    return { charged, unbilled };
  }
}
