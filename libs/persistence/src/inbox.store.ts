import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { queryPreparedIn } from './prepared.js';

/**
 * The consumer side of exactly-once: a message's effect and its inbox row commit in one
 * transaction, so a redelivered copy finds the row and does nothing.
 */
@Injectable()
export class InboxStore {
  /**
   * Records (consumer, messageId) in the caller's transaction. Returns false when it was already
   * recorded — the message is a duplicate. A concurrent copy blocks on the unique key until the
   * first transaction ends, then sees the row (commit) or takes it over (rollback).
   */
  async claim(manager: EntityManager, consumer: string, messageId: string): Promise<boolean> {
    const rows: unknown[] = await manager.query(
      `INSERT INTO inbox (consumer, message_id) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING 1`,
      [consumer, messageId],
    );
    return rows.length === 1;
  }

  /** claim() for many messages in one statement; returns the ids that were not seen before. */
  async claimMany(manager: EntityManager, consumer: string, messageIds: string[]): Promise<Set<string>> {
    const rows = await queryPreparedIn<{ message_id: string }>(
      manager,
      'tally_inbox_claim_many',
      `INSERT INTO inbox (consumer, message_id) SELECT $1, unnest($2::text[])
       ON CONFLICT DO NOTHING RETURNING message_id`,
      [consumer, messageIds],
    );
    return new Set(rows.map((r) => r.message_id));
  }
}
