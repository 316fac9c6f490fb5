import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { transactionView } from '#domain';
import { TransactionRepository } from '#persistence';
import { notFound } from '../http/errors.js';
import { TransactionSearchRepository } from './transaction-search.repository.js';

/** One transaction as operators inspect it: its timeline, ledger entries, messages and dead letters. */
@Injectable()
export class TransactionDetail {
  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(TransactionRepository) private readonly transactions: TransactionRepository,
    @Inject(TransactionSearchRepository) private readonly search: TransactionSearchRepository,
  ) {}

  async of(id: string) {
    const manager = this.dataSource.manager;
    const tenantId = await this.search.tenantOf(manager, id);
    if (!tenantId) throw notFound(`Transaction ${id}`);
    const record = (await this.transactions.find(manager, tenantId, id))!;
    const [entries, messages, deadLetters, updatedAt] = await Promise.all([
      this.search.entriesOf(manager, id),
      this.search.messagesOf(manager, id),
      this.search.deadLettersOf(manager, id),
      this.search.updatedAt(manager, id),
    ]);
    const timeline = [
      { at: record.createdAt, what: 'accepted (pending)' },
      ...messages.flatMap((m) => (m.publishedAt ? [{ at: m.publishedAt, what: `${m.type} published` }] : [])),
      ...(record.completedAt ? [{ at: record.completedAt, what: record.status }] : []),
    ].sort((a, b) => new Date(a.at).getTime() - new Date(b.at).getTime());
    return {
      ...transactionView(record),
      tenantId: record.tenantId,
      correlationId: record.correlationId,
      updatedAt,
      timeline,
      entries,
      messages,
      deadLetters,
    };
  }
}
