import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

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
}
