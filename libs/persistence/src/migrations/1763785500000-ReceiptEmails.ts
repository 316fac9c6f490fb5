import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Emails with a receipt attached. `notification_emails` sent only to the tenant's own address;
 * a receipt goes to the order's `customerEmail` (written to `recipient`, as before) with the
 * order's PDF attached. The row keeps a reference to the order, not the PDF: a completed order
 * never changes and its receipt renders to the same bytes every time, so the file is made when
 * the email is sent — the outbox stays small, and the attachment is the very document
 * `GET /v1/orders/{id}/receipt` serves.
 */
export class ReceiptEmails1763785500000 implements MigrationInterface {
  name = 'ReceiptEmails1763785500000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE notification_emails ADD COLUMN receipt_order_id text REFERENCES orders (id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE notification_emails DROP COLUMN receipt_order_id`);
  }
}
