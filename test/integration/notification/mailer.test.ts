import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import { SMTPServer } from 'smtp-server';
import type { DataSource } from 'typeorm';
import { OrderRepository } from '#persistence';
import { ReceiptRepository, Receipts } from '#receipts';
import { openDataSource } from '#test-support';
import { Mailer, templates } from '../../../apps/notification/src/email/mailer.js';

describe('email is sent once, however many senders run at once', () => {
  let db: DataSource;
  let smtp: SMTPServer;
  const received: string[] = [];

  beforeAll(async () => {
    // A slow mail server widens the window in which two senders could pick the same email.
    smtp = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      onData(stream, _session, callback) {
        let raw = '';
        stream.on('data', (c: Buffer) => (raw += c.toString('utf8')));
        stream.on('end', () => {
          received.push(/^Subject: (.*)$/m.exec(raw)?.[1] ?? '');
          setTimeout(callback, 50);
        });
      },
    });
    await new Promise<void>((r) => smtp.listen(0, '127.0.0.1', r));
    db = await openDataSource(8);
    await db.query(
      `INSERT INTO tenants (id, name, notification_email) VALUES ('ten_mailer', 'm', 'ops@mailer.test')
       ON CONFLICT (id) DO NOTHING`,
    );
  });
  afterAll(async () => {
    await db.destroy();
    await new Promise<void>((r) => smtp.close(() => r()));
  });

  it('two replicas sending pending emails concurrently deliver each exactly once', async () => {
    const options = {
      host: '127.0.0.1',
      port: (smtp.server.address() as AddressInfo).port,
      secure: false,
      from: 'Tally <t@tally.test>',
    };
    const receipts = new Receipts(new OrderRepository(), new ReceiptRepository());
    const replicas = [new Mailer(db, options, receipts), new Mailer(db, options, receipts)];
    const subjects: string[] = [];
    for (let i = 0; i < 6; i++) {
      const email = templates.balanceLow({
        accountId: `acc_mail${i}`,
        currency: 'USD',
        available: '1',
        threshold: '5',
      });
      subjects.push(email.subject);
      assert.equal(
        await replicas[0].enqueue(db.manager, 'ten_mailer', `mailer-test-${i}`, 'balance.low', email),
        true,
      );
    }
    // The same email recorded again is not a second email.
    assert.equal(
      await replicas[1].enqueue(
        db.manager,
        'ten_mailer',
        'mailer-test-0',
        'balance.low',
        templates.balanceLow({
          accountId: 'acc_mail0',
          currency: 'USD',
          available: '1',
          threshold: '5',
        }),
      ),
      false,
    );
    const sent = await Promise.all([
      replicas[0].sendPending(),
      replicas[1].sendPending(),
      replicas[0].sendPending(),
      replicas[1].sendPending(),
    ]);
    assert.equal(
      sent.reduce((a, b) => a + b, 0),
      6,
    );
    assert.deepEqual([...received].sort(), [...subjects].sort());
    const [{ pending }] = await db.query(
      `SELECT count(*) FILTER (WHERE status <> 'sent')::int AS pending FROM notification_emails WHERE tenant_id = 'ten_mailer'`,
    );
    assert.equal(pending, 0);
    for (const replica of replicas) replica.close();
  });
});
