import { Inject, Injectable, Logger } from '@nestjs/common';
import nodemailer, { type Transporter } from 'nodemailer';
import { DataSource, type EntityManager } from 'typeorm';
import { formatMoney } from '#domain';
import { RECEIPT_CONTENT_TYPE, Receipts } from '#receipts';

export interface MailerOptions {
  host: string;
  port: number;
  secure: boolean;
  user?: string;
  password?: string;
  from: string;
}

export interface Email {
  subject: string;
  text: string;
  html: string;
}

const escape = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** The emails Tally sends, in plain text and HTML. */
export const templates = {
  balanceLow(d: { accountId: string; currency: string; available: string; threshold: string }): Email {
    const line = `Account ${d.accountId} has ${d.available} ${d.currency} available, below its threshold of ${d.threshold}.`;
    return {
      subject: `Low balance on ${d.accountId}`,
      text: `${line}\n\nTop it up to keep charges and usage billing going.\n\n— Tally`,
      html: `<p>${escape(line)}</p><p>Top it up to keep charges and usage billing going.</p><p>— Tally</p>`,
    };
  },
  receipt(d: { orderId: string; total: bigint; currency: string }): Email {
    const line = `Thank you for your order ${d.orderId}. Total paid: ${formatMoney(d.total, d.currency)}.`;
    return {
      subject: `Your receipt for order ${d.orderId}`,
      text: `${line}\n\nYour receipt is attached (PDF).`,
      html: `<p>${escape(line)}</p><p>Your receipt is attached (PDF).</p>`,
    };
  },
  endpointDisabled(d: { endpointId: string; url: string; reason: string }): Email {
    const line = `Webhook endpoint ${d.endpointId} (${d.url}) has been disabled: ${d.reason}.`;
    return {
      subject: `Webhook endpoint ${d.endpointId} disabled`,
      text: `${line}\n\nFix the receiver, enable the endpoint again (PATCH status "enabled") and recover what failed (POST …/recover).\n\n— Tally`,
      html: `<p>${escape(line)}</p><p>Fix the receiver, enable the endpoint again and recover what failed.</p><p>— Tally</p>`,
    };
  },
};

/**
 * Email through SMTP (nodemailer). An email is first recorded in `notification_emails` under a
 * dedupe key, in the transaction that decides it (so a redelivered event never sends twice), then
 * sent; rows still pending (SMTP was down) are sent again by `sendPending`. A receipt email names
 * its order, and the order's PDF is attached when it is sent.
 */
@Injectable()
export class Mailer {
  private readonly log = new Logger(Mailer.name);
  private readonly transport: Transporter;

  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject('MAILER_OPTIONS') private readonly options: MailerOptions,
    @Inject(Receipts) private readonly receipts: Receipts,
  ) {
    this.transport = nodemailer.createTransport({
      host: options.host,
      port: options.port,
      secure: options.secure,
      auth: options.user ? { user: options.user, pass: options.password ?? '' } : undefined,
      connectionTimeout: 10_000,
      greetingTimeout: 10_000,
    });
  }

  /** Records an email to the tenant's notification address (none: nothing). True when new. */
  async enqueue(
    manager: EntityManager,
    tenantId: string,
    dedupeKey: string,
    kind: string,
    email: Email,
  ): Promise<boolean> {
    const rows: unknown[] = await manager.query(
      `INSERT INTO notification_emails (tenant_id, dedupe_key, kind, recipient, subject, body_text, body_html)
       SELECT t.id, $2, $3, t.notification_email, $4, $5, $6 FROM tenants t
        WHERE t.id = $1 AND t.notification_email IS NOT NULL
       ON CONFLICT (dedupe_key) DO NOTHING RETURNING id`,
      [tenantId, dedupeKey, kind, email.subject, email.text, email.html],
    );
    return rows.length > 0;
  }

  /**
   * Records the receipt of a completed order, to `recipient` (the order's customer), once per
   * order whatever redelivers the event. The PDF is rendered when the email is sent.
   */
  async enqueueReceipt(
    manager: EntityManager,
    tenantId: string,
    order: { id: string; total: bigint; currency: string },
    recipient: string,
  ): Promise<boolean> {
    const email = templates.receipt({ orderId: order.id, total: order.total, currency: order.currency });
    const rows: unknown[] = await manager.query(
      `INSERT INTO notification_emails (tenant_id, dedupe_key, kind, recipient, subject, body_text, body_html,
         receipt_order_id)
       VALUES ($1, $2, 'order.receipt', $3, $4, $5, $6, $7)
       ON CONFLICT (dedupe_key) DO NOTHING RETURNING id`,
      [tenantId, `receipt:${order.id}`, recipient, email.subject, email.text, email.html, order.id],
    );
    return rows.length > 0;
  }

  /**
   * Sends what is pending (a few attempts each); answers how many went out. Each email is claimed
   * with a row lock (SKIP LOCKED) for as long as it is being sent, so overlapping calls — in this
   * process or in another replica — never send the same email twice.
   */
  async sendPending(limit = 50): Promise<number> {
    let sent = 0;
    for (let i = 0; i < limit; i++) {
      const outcome = await this.dataSource.transaction(async (manager) => {
        const [row]: {
          id: string;
          recipient: string;
          subject: string;
          body_text: string;
          body_html: string;
          tenant_id: string;
          receipt_order_id: string | null;
        }[] = await manager.query(
          `SELECT id, recipient, subject, body_text, body_html, tenant_id, receipt_order_id FROM notification_emails
              WHERE status = 'pending' AND attempts < 20 ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED`,
        );
        if (!row) return 'none';
        try {
          const receipt = row.receipt_order_id
            ? await this.receipts.of(manager, row.receipt_order_id, row.tenant_id)
            : null;
          await this.transport.sendMail({
            from: this.options.from,
            to: row.recipient,
            subject: row.subject,
            text: row.body_text,
            html: row.body_html,
            attachments: receipt
              ? [{ filename: receipt.filename, content: receipt.pdf, contentType: RECEIPT_CONTENT_TYPE }]
              : [],
          });
        } catch (error) {
          this.log.warn(`email ${row.id} not sent: ${(error as Error).message}`);
          await manager.query(
            `UPDATE notification_emails SET attempts = attempts + 1, last_error = $2 WHERE id = $1`,
            [row.id, (error as Error).message.slice(0, 500)],
          );
          return 'failed';
        }
        await manager.query(
          `UPDATE notification_emails SET status = 'sent', sent_at = now(), attempts = attempts + 1 WHERE id = $1`,
          [row.id],
        );
        return 'sent';
      });
      if (outcome === 'none') break;
      if (outcome === 'sent') sent++;
      else break; // the mail server is failing: try the rest next time
    }
    return sent;
  }

  close(): void {
    this.transport.close();
  }
}
