import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from '@jest/globals';
import { MessageTypes, type TallyEvent, type UsageOutcomesData } from '#domain';
import { Commands, Events, eventMessage, eventMessages } from '#messaging';
import { repoRoot } from '../support/app-process.js';

describe('message factories', () => {
  it('each command goes to tally.commands under its type, with its correlation id', () => {
    const cases = [
      [
        Commands.transactionRequested({ transactionId: 'txn_1', tenantId: 'ten_1' }, 'corr-1'),
        MessageTypes.transactionRequested,
      ],
      [Commands.usageRecorded({ tenantId: 'ten_1', eventIds: ['e1'] }, 'corr-1'), MessageTypes.usageRecorded],
      [
        Commands.usageRebillRequested({ tenantId: 'ten_1', eventIds: ['e1'] }, 'corr-1'),
        MessageTypes.usageRebillRequested,
      ],
    ] as const;
    for (const [message, type] of cases) {
      assert.equal(message.exchange, 'tally.commands');
      assert.equal(message.routingKey, type);
      assert.equal(message.correlationId, 'corr-1');
    }
    assert.deepEqual(Commands.usageRecorded({ tenantId: 'ten_1', eventIds: [] }).correlationId, null);
    assert.deepEqual(Commands.transactionRequested({ transactionId: 'txn_1', tenantId: 'ten_1' }).payload, {
      transactionId: 'txn_1',
      tenantId: 'ten_1',
    });
  });

  it('each event has its type and a fresh id, and goes to tally.events as its own message id', () => {
    const low = Events.accountBalanceLow('ten_1', {
      accountId: 'acc_1',
      currency: 'USD',
      available: 5n,
      threshold: 10n,
    });
    assert.equal(low.type, MessageTypes.accountBalanceLow);
    assert.equal(low.tenantId, 'ten_1');
    assert.notEqual(low.id, Events.accountBalanceLow('ten_1', low.data).id);
    const message = eventMessage(low, 'corr-1');
    assert.deepEqual(
      { ...message, payload: undefined },
      {
        exchange: 'tally.events',
        routingKey: 'account.balance_low',
        payload: undefined,
        messageId: low.id,
        correlationId: 'corr-1',
      },
    );
    assert.equal(message.payload, low);
    const typed: [string, string][] = [
      [Events.transactionSucceeded('t', {} as never).type, 'transaction.succeeded'],
      [Events.transactionFailed('t', {} as never).type, 'transaction.failed'],
      [Events.holdCreated('t', {} as never).type, 'hold.created'],
      [Events.holdCaptured('t', {} as never).type, 'hold.captured'],
      [Events.holdVoided('t', {} as never).type, 'hold.voided'],
      [Events.holdExpired('t', {} as never).type, 'hold.expired'],
      [Events.usageCharged('t', {} as never).type, 'usage.charged'],
      [Events.usageChargeFailed('t', {} as never).type, 'usage.charge_failed'],
    ];
    for (const [made, type] of typed) assert.equal(made, type);
  });

  it("a usage batch's outcome events become one usage.outcomes message; other events keep their own", () => {
    const about = {
      type: 'api_call',
      accountId: 'acc_1',
      meterId: null,
      quantity: 1n,
      amount: 5n,
      currency: 'USD',
    };
    const charged = Events.usageCharged('ten_1', { ...about, eventId: 'e1', transactionId: 'txn_1' });
    const low = Events.accountBalanceLow('ten_1', {
      accountId: 'acc_1',
      currency: 'USD',
      available: 1n,
      threshold: 2n,
    });
    const failed = Events.usageChargeFailed('ten_1', {
      ...about,
      eventId: 'e2',
      failure: { code: 'insufficient_funds', message: 'no' },
    });
    const messages = eventMessages([
      { event: charged, correlationId: 'corr-1' },
      { event: low, correlationId: 'corr-1' },
      { event: failed, correlationId: 'corr-2' },
    ]);
    assert.deepEqual(
      messages.map((m) => m.routingKey),
      ['usage.outcomes', 'account.balance_low'],
    );
    const [packed, alone] = messages;
    const payload = packed.payload as TallyEvent<UsageOutcomesData>;
    assert.equal(packed.messageId, payload.id);
    assert.equal(packed.correlationId, 'corr-1');
    assert.deepEqual(payload.data.outcomes, [
      { event: charged, correlationId: 'corr-1' },
      { event: failed, correlationId: 'corr-2' },
    ]);
    assert.equal(alone.payload, low);
    assert.deepEqual(
      eventMessages([{ event: low, correlationId: null }]).map((m) => m.routingKey),
      ['account.balance_low'],
    );
    const others = Events.usageCharged('ten_2', { ...about, eventId: 'e3', transactionId: 'txn_3' });
    assert.throws(() =>
      eventMessages([
        { event: charged, correlationId: null },
        { event: others, correlationId: null },
      ]),
    );
  });

  it('no command or event is built by hand outside the factories', () => {
    const files = (dir: string): string[] =>
      readdirSync(path.join(repoRoot, dir), { withFileTypes: true }).flatMap((e) =>
        e.isDirectory()
          ? files(path.join(dir, e.name))
          : e.name.endsWith('.ts')
            ? [path.join(dir, e.name)]
            : [],
      );
    const handBuilt =
      /exchange:\s*Exchanges\.(commands|events)\b|routingKey:\s*MessageTypes\.|\btallyEvent\(/;
    // The factories themselves, the contracts, and the topology (queue bindings, not messages).
    const allowed = [
      'libs/messaging/src/messages.ts',
      'libs/domain/src/messages.ts',
      'libs/messaging/src/topology.ts',
    ];
    const found = [...files('apps'), ...files('libs')]
      .filter((f) => !allowed.includes(f))
      .filter((f) => handBuilt.test(readFileSync(path.join(repoRoot, f), 'utf8')));
    assert.deepEqual(found, []);
  });
});
