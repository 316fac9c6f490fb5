import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import { SMTPServer } from 'smtp-server';
import { Webhook } from 'standardwebhooks';
import type { DataSource } from 'typeorm';
import {
  Api,
  BrokerProbe,
  Receiver,
  Stack,
  createTenant,
  openDataSource,
  pdfText,
  waitFor,
} from '#test-support';

interface Mail {
  to: string;
  subject: string;
  raw: string;
}

/** The PDF attached to a MIME message (nodemailer writes attachments in base64). */
function pdfAttachment(raw: string): { filename: string; bytes: Buffer } | null {
  const part =
    /Content-Type: application\/pdf[^\r\n]*\r?\n((?:[^\r\n]+\r?\n)*?)\r?\n([A-Za-z0-9+/=\r\n]+)/.exec(raw);
  if (!part) return null;
  const filename = /filename="?([^";\r\n]+)"?/.exec(part[1])?.[1] ?? '';
  return { filename, bytes: Buffer.from(part[2].replace(/\s/g, ''), 'base64') };
}

/**
 * A completed order, end to end with the apps as processes: its customer is emailed the receipt
 * (the SMTP test server receives it once, PDF attached), and `order.completed` reaches a
 * subscribed webhook endpoint, signed.
 */
describe('receipts by email, and order.completed to webhooks', () => {
  let stack: Stack;
  let api: Api;
  let tenantId: string;
  let db: DataSource;
  let probe: BrokerProbe;
  let smtp: SMTPServer;
  const receiver = new Receiver();
  const mail: Mail[] = [];

  beforeAll(async () => {
    smtp = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      onData(stream, session, callback) {
        let raw = '';
        stream.on('data', (c: Buffer) => (raw += c.toString('utf8')));
        stream.on('end', () => {
          mail.push({
            to: session.envelope.rcptTo.map((r) => r.address).join(','),
            subject: /^Subject: (.*)$/m.exec(raw)?.[1] ?? '',
            raw,
          });
          callback();
        });
      },
    });
    await new Promise<void>((r) => smtp.listen(0, '127.0.0.1', r));
    await receiver.start();
    stack = await Stack.start('receipts', ['gateway', 'transaction-worker', 'notification'], {
      WEBHOOK_ALLOWED_HOSTS: '127.0.0.1',
      WEBHOOK_DISPATCH_INTERVAL_MS: '50',
      SMTP_PORT: String((smtp.server.address() as AddressInfo).port),
    });
    const tenant = await createTenant('Lumen Lamps');
    tenantId = tenant.tenantId;
    api = new Api(stack.url('gateway'), tenant.apiKey);
    db = await openDataSource(2);
    probe = await BrokerProbe.open();
  });
  afterAll(async () => {
    await probe?.close();
    await db?.destroy();
    await stack?.stop();
    await receiver.stop();
    await new Promise<void>((r) => smtp.close(() => r()));
  });

  it('emails the receipt to customerEmail once, with the PDF, and signs order.completed to webhooks', async () => {
    const hook = await api.post('/v1/webhook-endpoints', {
      url: receiver.url('/orders'),
      eventTypes: ['order.completed'],
    });
    assert.equal(hook.status, 201, hook.text);
    const lamp = await api.post('/v1/products', {
      sku: `LAMP-${randomBytes(3).toString('hex')}`,
      name: 'Red desk lamp',
      price: 4_250,
      currency: 'USD',
      stock: 5,
    });
    assert.equal(lamp.status, 201, lamp.text);
    const account = await api.account({ currency: 'USD' });
    await api.deposit(account, 10_000);
    const customer = `ana-${randomBytes(4).toString('hex')}@shop.test`;
    const placed = await api.post(
      '/v1/orders',
      { accountId: account, items: [{ productId: lamp.body.id, quantity: 2 }], customerEmail: customer },
      { 'idempotency-key': `receipt-${randomBytes(6).toString('hex')}` },
    );
    assert.equal(placed.status, 201, placed.text);
    const orderId = placed.body.id as string;

    // The email: to the customer, the receipt attached.
    await waitFor('the receipt email', () => mail.some((m) => m.to === customer), 30_000);
    const [sent] = mail.filter((m) => m.to === customer);
    assert.equal(sent.subject, `Your receipt for order ${orderId}`);
    assert.match(sent.raw.replace(/=\r?\n/g, ''), /Total paid: USD 85\.00\./); // quoted-printable, unfolded
    const attachment = pdfAttachment(sent.raw);
    assert.ok(attachment, `a PDF attachment in:\n${sent.raw.slice(0, 2000)}`);
    assert.equal(attachment.filename, `receipt-${orderId}.pdf`);
    const text = await pdfText(attachment.bytes);
    for (const expected of ['Lumen Lamps', orderId, 'Red desk lamp', 'USD 42.50', 'USD 85.00']) {
      assert.ok(text.includes(expected), `"${expected}" in:\n${text}`);
    }
    // The very file the API serves.
    const served = await api.get(`/v1/orders/${orderId}/receipt`);
    assert.equal(served.status, 200, served.text);
    assert.ok(served.bytes.equals(attachment.bytes));

    // The webhook: order.completed, signed as every event is.
    await waitFor('order.completed delivered', () => receiver.at('/orders').length > 0, 30_000);
    const [request] = receiver.at('/orders');
    const event = new Webhook(hook.body.secret).verify(request.body, {
      'webhook-id': request.headers['webhook-id'] as string,
      'webhook-timestamp': request.headers['webhook-timestamp'] as string,
      'webhook-signature': request.headers['webhook-signature'] as string,
    }) as { id: string; type: string; data: { id: string; status: string; total: number } };
    assert.equal(event.type, 'order.completed');
    assert.equal(event.data.id, orderId);
    assert.equal(event.data.status, 'completed');
    assert.equal(event.data.total, 8_500);

    // The event again, under a new message id (so the inbox lets it through, as a re-emitted
    // event would be): once it is processed, still one email recorded, and it was sent once.
    const [outboxRow]: { payload: Record<string, unknown> }[] = await db.query(
      `SELECT payload FROM outbox WHERE message_type = 'order.completed' AND payload->'data'->>'id' = $1`,
      [orderId],
    );
    assert.ok(outboxRow, 'the order.completed event in the outbox');
    const again = `redelivered-${randomBytes(6).toString('hex')}`;
    await probe.publishConfirmed(`${stack.prefix}tally.events`, 'order.completed', outboxRow.payload, {
      messageId: again,
      type: 'order.completed',
      contentType: 'application/json',
    });
    await waitFor('the redelivered event processed', async () => {
      const rows: unknown[] = await db.query(
        `SELECT 1 FROM inbox WHERE consumer = 'notification' AND message_id = $1`,
        [again],
      );
      return rows.length === 1;
    });
    const emails: { status: string; recipient: string }[] = await db.query(
      `SELECT status, recipient FROM notification_emails WHERE tenant_id = $1 AND receipt_order_id = $2`,
      [tenantId, orderId],
    );
    assert.deepEqual(emails, [{ status: 'sent', recipient: customer }]);
    assert.equal(mail.filter((m) => m.to === customer).length, 1);
  });
});
