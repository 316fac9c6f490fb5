import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { DataSource } from 'typeorm';
import { newId } from '#domain';
import {
  Api,
  BrokerProbe,
  Stack,
  createOperator,
  createTenant,
  openDataSource,
  repoRoot,
  waitFinal,
  waitFor,
} from '#test-support';
import {
  startProviderSimulator,
  type ProviderSimulator,
} from '../../tools/provider-simulator/src/simulator.js';

// UPDATE_SCREENSHOTS=1 refreshes the screenshots in docs/screenshots; otherwise they go to a temporary folder.
const shots = process.env.UPDATE_SCREENSHOTS
  ? path.join(repoRoot, 'docs/screenshots')
  : path.join(os.tmpdir(), 'tally-screenshots');
const OPERATOR = { email: `dash-${Date.now()}@tally.test`, password: 'a long password!' };
// Withdrawals of these amounts never reach the provider (5xx, no retry): reconciliation lists them.
const PAYOUT = { small: 81, large: 250, threshold: 100 };

describe('dashboard in a real browser (Chromium, playwright-core)', () => {
  let stack: Stack;
  let api: Api;
  let tenantId: string;
  let db: DataSource;
  let browser: Browser;
  let page: Page;
  let sim: ProviderSimulator;

  beforeAll(async () => {
    mkdirSync(shots, { recursive: true });
    sim = await startProviderSimulator({
      behaviour: {
        webhooks: false,
        settleAfterMs: 20,
        byAmount: { [PAYOUT.small]: { errorRate: 1 }, [PAYOUT.large]: { errorRate: 1 } },
      },
    });
    stack = await Stack.start('dashboard', ['gateway', 'transaction-worker', 'admin'], {
      ADMIN_JWT_SECRET: 'd'.repeat(40),
      ADMIN_METRICS_SAMPLE_SECONDS: '1',
      PAYOUT_PROVIDER_URL: sim.url,
      PAYOUT_MAX_ATTEMPTS: '1',
      PAYOUT_DISPATCH_INTERVAL_MS: '50',
      PAYOUT_RECONCILE_INTERVAL_MS: '300',
      PAYOUT_BREAKER_FAILURES: '1000',
      ADMIN_PAYOUT_SETTLE_APPROVAL_THRESHOLD: String(PAYOUT.threshold),
    });
    const tenant = await createTenant('Dashboard');
    tenantId = tenant.tenantId;
    api = new Api(stack.url('gateway'), tenant.apiKey);
    db = await openDataSource(2);
    const { hash } = await import('@node-rs/argon2');
    await db.query(`INSERT INTO operators (id, email, password_hash, role) VALUES ($1, $2, $3, 'operator')`, [
      newId('op'),
      OPERATOR.email,
      await hash(OPERATOR.password),
    ]);
    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu'],
    });
    page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  });
  /**
   * A chart as drawn: its lines and points, and the coloured pixels on its canvas (its lines: the
   * axes, grid and labels are greys).
   */
  const drawn = async (title: string) => {
    const chart = page.getByTestId(`chart-${title}`);
    await chart.waitFor();
    await waitFor(
      `the chart ${title} drawn`,
      async () => Number(await chart.getAttribute('data-points')) > 0,
    );
    // In the page (no DOM types here): the canvas's pixels whose channels differ widely.
    const count = () =>
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      chart.locator('canvas').evaluate((canvas: any) => {
        const { data } = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height);
        let n = 0;
        for (let i = 0; i < data.length; i += 4) {
          const [r, g, b, a] = [data[i], data[i + 1], data[i + 2], data[i + 3]];
          if (a > 200 && Math.max(r, g, b) - Math.min(r, g, b) > 80) n++;
        }
        return n;
      });
    let pixels = 0;
    await waitFor(
      `the chart ${title}'s first line on its canvas`,
      async () => (pixels = await count()) > 0,
      5000,
    ).catch(
      () => undefined, // asserted by the caller, with the count
    );
    return {
      lines: Number(await chart.getAttribute('data-lines')),
      points: Number(await chart.getAttribute('data-points')),
      pixels,
    };
  };
  afterAll(async () => {
    await browser?.close();
    await db?.destroy();
    await stack.stop();
    await sim?.close();
  });

  it('signs in, shows the overview with real data, finds a failed transaction, replays a dead letter to success', async () => {
    // Real data: money moved, one failure, and a command dead-lettered for a transaction not yet written.
    const account = await api.account();
    await api.deposit(account, 500);
    const failed = await waitFinal(
      api,
      (await api.transact({ type: 'withdrawal', sourceAccountId: account, amount: 9999, currency: 'USD' }))
        .body.id,
    );
    assert.equal(failed.status, 'failed');
    const lost = newId('txn');
    const probe = await BrokerProbe.open();
    await probe.publishConfirmed(
      `${stack.prefix}tally.commands`,
      'transaction.requested',
      { transactionId: lost, tenantId },
      {
        messageId: newId('msg'),
        type: 'transaction.requested',
        contentType: 'application/json',
      },
    );
    await probe.close();
    const letter = await waitFor('the dead letter', async () => {
      const [row] = await db.query(`SELECT id FROM dead_letters WHERE payload LIKE '%' || $1 || '%'`, [lost]);
      return row?.id as string | undefined;
    });

    await page.goto(stack.url('admin') + '/');
    await page.fill('input[name=email]', OPERATOR.email);
    await page.fill('input[name=password]', 'wrong password');
    await page.click('button[type=submit]');
    await page.getByRole('alert').waitFor();
    await page.fill('input[name=password]', OPERATOR.password);
    await page.click('button[type=submit]');

    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    // Every chart draws its lines on a canvas (uPlot), from the series routes.
    for (const chart of [
      'Throughput',
      'Latency percentiles',
      'Queue depths',
      'Outbox publish lag',
      'Outbox backlog',
    ])
      assert.ok((await drawn(chart)).points > 0, chart);
    const throughput = await drawn('Throughput');
    assert.ok(throughput.lines >= 2, 'a line per transaction type (deposit, withdrawal)');
    assert.ok(throughput.pixels > 50, `the lines on the canvas: ${throughput.pixels} coloured pixels`);
    assert.ok(Number(await page.getByTestId('card-Transactions').textContent()) >= 2);
    assert.ok(Number(await page.getByTestId('card-Failed').textContent()) >= 1);
    const health = (await page.getByRole('list', { name: 'Service health' }).textContent()) ?? '';
    for (const up of ['database: up', 'broker: up', 'transaction-worker: up', 'admin: up'])
      assert.ok(health.includes(up), health);
    assert.ok(health.includes('notification: down'), health); // not started in this test
    const queues = page.getByTestId('chart-Queue depths');
    assert.ok((await queues.textContent())?.includes('transaction-worker.commands'));
    await page.screenshot({ path: path.join(shots, 'overview.png'), fullPage: true });
    // Another window is another set of buckets, drawn again.
    await page.selectOption('select[aria-label=Window]', '15m');
    await waitFor('the 15-minute throughput', async () => (await drawn('Throughput')).points > 0);
    assert.equal(new URL(page.url()).hash, '#/overview?window=15m&tenantId=');

    await page.click('nav >> text=Transactions');
    await page.selectOption('select[aria-label=Status]', 'failed');
    await page.getByRole('cell', { name: failed.id }).click();
    const detail = page.getByRole('complementary', { name: 'Transaction detail' });
    await detail.getByRole('heading', { name: failed.id }).waitFor();
    assert.match((await detail.textContent()) ?? '', /failed/);
    assert.equal(new URL(page.url()).hash, `#/transactions?status=failed&open=${failed.id}`); // shareable
    await page.getByRole('cell', { name: failed.id }).waitFor(); // the list stays, next to the detail
    assert.equal(await page.getByRole('alert').count(), 0);
    await page.screenshot({ path: path.join(shots, 'transactions.png'), fullPage: true });

    // The cause fixed, the dead letter replayed from the dashboard (reason asked in a prompt).
    await db.query(
      `INSERT INTO transactions (id, tenant_id, type, status, amount, currency, destination_account_id)
       VALUES ($1, $2, 'deposit', 'pending', 42, 'USD', $3)`,
      [lost, tenantId, account],
    );
    await page.click('nav >> text=Dead letters');
    const row = page.getByTestId(`dead-letter-${letter}`);
    await row.waitFor();
    await page.screenshot({ path: path.join(shots, 'dead-letters.png'), fullPage: true });
    page.once('dialog', (dialog) => void dialog.accept('transaction restored'));
    await row.getByRole('button', { name: 'Replay' }).click();
    await page
      .getByRole('status')
      .filter({ hasText: `${letter} replayed` })
      .waitFor();
    assert.equal((await waitFinal(api, lost)).status, 'succeeded');
    await page.goto(`${stack.url('admin')}/#/transactions?id=${lost}`);
    await page.getByRole('cell', { name: 'succeeded' }).waitFor();

    // The account, its ledger, and a freeze from the dashboard (reason asked in a prompt).
    await page.goto(`${stack.url('admin')}/#/accounts?tenantId=${tenantId}`);
    await page.getByRole('cell', { name: account }).click();
    const accountDetail = page.getByRole('complementary', { name: 'Account detail' });
    await accountDetail.getByRole('cell', { name: lost }).waitFor();
    page.once('dialog', (dialog) => void dialog.accept('fraud review'));
    await accountDetail.getByRole('button', { name: 'Freeze' }).click();
    await page.getByRole('status').filter({ hasText: 'Frozen' }).waitFor();
    await accountDetail.getByRole('button', { name: 'Unfreeze' }).waitFor();
    await page.screenshot({ path: path.join(shots, 'accounts.png'), fullPage: true });
    assert.equal((await api.get(`/v1/accounts/${account}`)).body.status, 'frozen');

    // Keys: a new one is shown once, and revoking it stops it at the gateway.
    await page.goto(`${stack.url('admin')}/#/tenants?keys=${tenantId}`);
    const keys = page.getByRole('complementary', { name: 'API keys' });
    await keys.getByRole('button', { name: 'New key' }).waitFor();
    page.once('dialog', (dialog) => void dialog.accept('ci'));
    await keys.getByRole('button', { name: 'New key' }).click();
    const shown = await page.getByRole('status').filter({ hasText: 'Shown only now' }).textContent();
    const plaintext = /(tk_[A-Za-z0-9_-]{32})/.exec(shown ?? '')![1];
    const ci = new Api(stack.url('gateway'), plaintext);
    assert.equal((await ci.get('/v1/accounts')).status, 200);
    page.once('dialog', (dialog) => void dialog.accept('leaked'));
    // The new key's row by its exact name: a pattern could match another key's random prefix
    // (and revoke that one), or match before the list has reloaded with the new key.
    await keys
      .getByRole('row')
      .filter({ has: page.getByRole('cell', { name: 'ci', exact: true }) })
      .getByRole('button', { name: 'Revoke' })
      .click();
    await page.getByRole('status').filter({ hasText: 'revoked' }).waitFor();
    let lastStatus = 0;
    await waitFor(
      'the key to stop working',
      async () => {
        lastStatus = (await ci.get('/v1/accounts')).status;
        return lastStatus === 401;
      },
      10_000,
    ).catch((error: Error) => {
      throw new Error(`${error.message} (last answer ${lastStatus})`);
    });
    await page.screenshot({ path: path.join(shots, 'tenants.png'), fullPage: true });

    await page.click('nav >> text=Audit log');
    await page.getByRole('cell', { name: 'dead_letter.replay' }).first().waitFor();
    await page.screenshot({ path: path.join(shots, 'audit.png'), fullPage: true });
  });

  it('usage graphs per account and meter, money in its currency; event analytics with pages, empty and error states', async () => {
    // Real usage: a USD and a JPY meter, their events charged to wallets of those currencies.
    for (const meter of [
      { eventType: 'api.call', aggregation: 'sum', property: 'tokens', unitPrice: 2, currency: 'USD' },
      { eventType: 'sms.sent', aggregation: 'count', unitPrice: 5, currency: 'JPY' },
    ])
      assert.equal((await api.post('/v1/meters', meter)).status, 201);
    const usd = await api.account({ currency: 'USD' });
    await api.deposit(usd, 1_000_000);
    const yen = await api.account({ currency: 'JPY' });
    await api.deposit(yen, 1_000_000, 'JPY');
    const events = [
      { type: 'api.call', accountId: usd, properties: { tokens: 1200 } },
      { type: 'api.call', accountId: usd, properties: { tokens: 34 } },
      ...[1, 2, 3].map(() => ({ type: 'sms.sent', accountId: yen })),
      { type: 'page.view', accountId: null, properties: { path: '/pricing' } },
    ];
    assert.equal((await api.post('/v1/events', { events })).status, 202);
    await waitFor('the usage charged', async () => {
      const page1 = (await api.get('/v1/events?limit=100')).body.data as { status: string }[];
      return page1.length >= events.length && page1.every((e) => e.status === 'processed');
    });

    await page.goto(`${stack.url('admin')}/#/usage?tenantId=${tenantId}`);
    await page.getByRole('heading', { name: 'Usage' }).waitFor();
    // 1234 tokens at 2 cents: $24.68; 3 messages at ¥5: ¥15 (no minor unit).
    const cells = async (row: string) =>
      (await page.getByTestId(row).getByRole('cell').allTextContents()).join(' | ');
    await page.getByTestId('meter-api.call').waitFor();
    assert.match(await cells('meter-api.call'), /^api\.call \| mtr_\w+ \| 2 \| 1234 \| \$24\.68$/);
    assert.match(await cells('meter-sms.sent'), /^sms\.sent \| mtr_\w+ \| 3 \| 3 \| ¥15$/);
    for (const chart of ['Usage quantity', 'Amount charged']) {
      const c = await drawn(chart);
      assert.equal(c.lines, 2, chart);
      assert.ok(c.points > 0 && c.pixels > 0, chart);
    }
    // The list below: amounts in their currencies.
    const list = page.getByRole('table').last();
    await list.getByRole('cell', { name: '$24.00', exact: true }).waitFor();
    await list.getByRole('cell', { name: '¥5', exact: true }).first().waitFor();
    await page.screenshot({ path: path.join(shots, 'usage.png'), fullPage: true });
    // One account: only its meter.
    await page.fill('input[aria-label=Account]', yen);
    await page.press('input[aria-label=Account]', 'Enter');
    await page.getByTestId('meter-api.call').waitFor({ state: 'detached' });
    await page.getByTestId('meter-sms.sent').waitFor();

    // Events: a page of 3, the next page other events, the stats with a failure reason.
    await page.goto(`${stack.url('admin')}/#/events?tenantId=${tenantId}&limit=3`);
    await page.getByRole('heading', { name: 'Events' }).first().waitFor();
    const ids = async () =>
      (await page.locator('table').last().locator('tbody tr td:first-child').allTextContents()).sort();
    await waitFor('the first page', async () => (await ids()).length === 3);
    const first = await ids();
    await page.getByRole('button', { name: 'Older' }).click();
    await waitFor('the next page', async () => {
      const next = await ids();
      return next.length === 3 && next.every((id) => !first.includes(id));
    });
    assert.match(page.url(), /before=/);
    assert.equal(Number(await page.getByTestId('card-Received').textContent()), events.length);
    await page.selectOption('select[aria-label="Group by"]', 'hour');
    await page.getByRole('columnheader', { name: 'Hour (UTC)' }).waitFor();
    await page
      .getByRole('cell', { name: /^\d{4}-\d\d-\d\d \d\d:00$/ })
      .first()
      .waitFor();
    await page.screenshot({ path: path.join(shots, 'events.png'), fullPage: true });
    await page.goto(`${stack.url('admin')}/#/events?tenantId=${tenantId}&status=pending`);
    await page.locator('[data-state=empty]').filter({ hasText: 'Nothing here.' }).waitFor();

    // A route that fails: the error state, with its reason and a retry.
    await page.goto(`${stack.url('admin')}/#/events?tenantId=${tenantId}&from=yesterday`);
    const error = page.locator('[data-state=error]').first();
    await error.waitFor();
    assert.match((await error.textContent()) ?? '', /Could not load: .*from/);
    await error.getByRole('button', { name: 'Retry' }).waitFor();
    // A chart whose route fails shows the same state, and draws once it answers again.
    let failing = true;
    await page.route('**/admin/api/metrics/series/queues?*', (route) =>
      failing
        ? route.fulfill({
            status: 503,
            contentType: 'application/problem+json',
            body: JSON.stringify({ code: 'service_unavailable', detail: 'The database is briefly away.' }),
          })
        : route.continue(),
    );
    await page.goto(`${stack.url('admin')}/#/overview?window=1h`);
    const queues = page.getByTestId('chart-Queue depths');
    await queues.locator('[data-state=error]').filter({ hasText: 'briefly away' }).waitFor();
    failing = false;
    await queues.getByRole('button', { name: 'Retry' }).click();
    await waitFor(
      'the queue chart drawn after the retry',
      async () => (await drawn('Queue depths')).points > 0,
    );
    await page.unroute('**/admin/api/metrics/series/queues?*');
  });

  it('products with their stock and a search; orders with filters and a detail with hold, capture, events, receipt', async () => {
    const product = async (name: string, category: string, price: number, stock: number) => {
      const res = await api.post('/v1/products', {
        sku: `${category.toUpperCase()}-${randomBytes(4).toString('hex')}`,
        name,
        category,
        price,
        currency: 'USD',
        stock,
      });
      assert.equal(res.status, 201, res.text);
      return res.body.id as string;
    };
    const lamp = await product('Red desk lamp', 'lighting', 2450, 40);
    await product('Blue ceramic mug', 'kitchen', 1200, 25);
    await product('Walnut lamp shade', 'lighting', 3900, 8);
    const buyer = await api.account();
    await api.deposit(buyer, 100_000);
    const placed = await api.post(
      '/v1/orders',
      { accountId: buyer, items: [{ productId: lamp, quantity: 2 }], customerEmail: 'ana@example.com' },
      { 'idempotency-key': randomBytes(8).toString('hex') },
    );
    assert.equal(placed.status, 201, placed.text);
    const done = await waitFor('the order completed', async () => {
      const o = (await api.get(`/v1/orders/${placed.body.id}`)).body;
      return o.status === 'completed' ? o : undefined;
    });

    // Products: the tenant's catalog with stock, then a stemmed search.
    await page.goto(`${stack.url('admin')}/#/products?tenantId=${tenantId}`);
    const lampRow = page.getByRole('row').filter({ hasText: 'Red desk lamp' });
    await lampRow.waitFor();
    const cells = (await lampRow.getByRole('cell').allTextContents()).join(' | ');
    assert.match(cells, /\$24\.50/); // minor units in the currency's format
    assert.match(cells, /\| 38 \| 0 \| 38 \| 2 \|/); // on hand, reserved, available, sold
    await page.getByRole('cell', { name: 'Blue ceramic mug' }).waitFor();
    await page.screenshot({ path: path.join(shots, 'admin-products.png'), fullPage: true });
    await page.fill('input[aria-label=Search]', 'lamps');
    await page.press('input[aria-label=Search]', 'Enter');
    await page.getByRole('cell', { name: 'Walnut lamp shade' }).waitFor();
    await page.getByRole('cell', { name: 'Blue ceramic mug' }).waitFor({ state: 'detached' });
    assert.equal(new URL(page.url()).hash, `#/products?tenantId=${tenantId}&q=lamps`);

    // Orders: filtered by tenant and status, the detail beside the list.
    await page.click('nav >> text=Orders');
    await page.fill('input[aria-label=Tenant]', tenantId);
    await page.press('input[aria-label=Tenant]', 'Enter');
    await page.selectOption('select[aria-label=Status]', 'completed');
    await page.getByRole('cell', { name: done.id }).click();
    const detail = page.getByRole('complementary', { name: 'Order detail' });
    await detail.getByRole('heading', { name: done.id }).waitFor();
    assert.match((await detail.getByTestId('order-hold').textContent()) ?? '', /captured \$49\.00/);
    await detail.getByRole('cell', { name: 'order.completed' }).waitFor();
    await detail.getByRole('button', { name: 'Receipt (PDF)' }).waitFor();
    assert.equal(new URL(page.url()).hash, `#/orders?tenantId=${tenantId}&status=completed&open=${done.id}`);
    await page.screenshot({ path: path.join(shots, 'admin-orders.png'), fullPage: true });
    await detail.getByRole('link', { name: new RegExp(done.transactionId) }).click();
    await page
      .getByRole('complementary', { name: 'Transaction detail' })
      .getByRole('heading', { name: done.transactionId })
      .waitFor();
  });

  it('payouts: the breaker, the mismatches with money in their currency, settle, and four eyes above the threshold', async () => {
    const account = await api.account({ currency: 'USD' });
    await api.deposit(account, 10_000);
    const withdraw = async (amount: number) => {
      const res = await api.transact(
        { type: 'withdrawal', sourceAccountId: account, amount, currency: 'USD' },
        0,
      );
      assert.equal(res.status, 202, res.text);
      const id = res.body.id as string;
      await waitFor(`the mismatch of ${id}`, async () => {
        const [row] = await db.query(
          `SELECT 1 FROM payout_mismatches WHERE transaction_id = $1 AND resolved_at IS NULL`,
          [id],
        );
        return row;
      });
      return id;
    };
    const small = await withdraw(PAYOUT.small);
    const large = await withdraw(PAYOUT.large);
    /** Answers the next prompts (and confirms) in order. */
    const answer = (...replies: string[]) => {
      const handle = (dialog: { accept(text?: string): Promise<void> }) => {
        const reply = replies.shift();
        if (replies.length > 0) page.once('dialog', handle);
        void dialog.accept(reply);
      };
      page.once('dialog', handle);
    };

    await page.goto(`${stack.url('admin')}/#/payouts`);
    await page.getByRole('heading', { name: 'Payouts' }).waitFor();
    // The provider's breaker, as the worker reported it.
    const breaker = page.getByTestId(`breaker-${new URL(sim.url).host}`);
    await breaker.getByRole('cell', { name: 'closed', exact: true }).waitFor();
    // Each mismatch with its amount in its currency: 81 cents → $0.81, 250 → $2.50.
    const smallRow = page.getByTestId(`mismatch-${small}`);
    const largeRow = page.getByTestId(`mismatch-${large}`);
    await smallRow.getByRole('cell', { name: '$0.81', exact: true }).waitFor();
    await largeRow.getByRole('cell', { name: '$2.50', exact: true }).waitFor();
    await smallRow.getByRole('cell', { name: 'unknown_to_provider' }).waitFor();

    // At or under the threshold: settled at once (the outcome, then the reason, asked in prompts).
    answer('failed', 'never reached the provider');
    await smallRow.getByRole('button', { name: 'Settle' }).click();
    await page
      .getByRole('status')
      .filter({ hasText: `${small} settled (failed)` })
      .waitFor();
    await smallRow.waitFor({ state: 'detached' });
    assert.equal((await waitFinal(api, small)).status, 'failed');

    // Above it: waiting for a second operator; its requester may only withdraw it.
    answer('succeeded', 'the bank confirmed the transfer');
    await largeRow.getByRole('button', { name: 'Settle' }).click();
    await page.getByRole('status').filter({ hasText: 'waits for a second operator' }).waitFor();
    await largeRow.getByRole('cell', { name: /awaiting approval: succeeded/ }).waitFor();
    await largeRow.getByRole('button', { name: 'Withdraw' }).waitFor();
    assert.equal(await largeRow.getByRole('button', { name: 'Approve' }).count(), 0);
    await page.screenshot({ path: path.join(shots, 'payouts.png'), fullPage: true });
    assert.equal((await api.get(`/v1/transactions/${large}`)).body.status, 'processing');

    // A second operator, in a browser of their own, approves it: settled once.
    const other = await createOperator('operator');
    const second = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    try {
      await second.goto(stack.url('admin') + '/');
      await second.fill('input[name=email]', other.email);
      await second.fill('input[name=password]', other.password);
      await second.click('button[type=submit]');
      await second.getByRole('heading', { name: 'Overview' }).waitFor();
      await second.goto(`${stack.url('admin')}/#/payouts`);
      const row = second.getByTestId(`mismatch-${large}`);
      second.once('dialog', (dialog) => void dialog.accept());
      await row.getByRole('button', { name: 'Approve' }).click();
      await second
        .getByRole('status')
        .filter({ hasText: `${large} settled (succeeded)` })
        .waitFor();
      await row.waitFor({ state: 'detached' });
    } finally {
      await second.close();
    }
    assert.equal((await waitFinal(api, large)).status, 'succeeded');

    // The list's failure: the shared error state, with a retry.
    await page.route('**/admin/api/payout-mismatches*', (route) =>
      route.fulfill({
        status: 503,
        contentType: 'application/problem+json',
        body: JSON.stringify({ code: 'service_unavailable', detail: 'The database is briefly away.' }),
      }),
    );
    await page.goto(`${stack.url('admin')}/#/payouts?before=zzz`);
    await page.locator('[data-state=error]').filter({ hasText: 'briefly away' }).waitFor();
    await page.unroute('**/admin/api/payout-mismatches*');
  });

  it("the admin API's document in Swagger UI: every operation, bearer sign-in, the role each needs", async () => {
    await page.goto(`${stack.url('admin')}/admin/docs`);
    await page.getByRole('heading', { name: /Tally admin API/ }).waitFor();
    await page.getByRole('button', { name: 'Authorize' }).waitFor();
    const operations = page.locator('.opblock');
    await operations.first().waitFor();
    assert.ok((await operations.count()) >= 30, `${await operations.count()} operations shown`);
    // An operation opened shows the role its @Needs gives it.
    const freeze = page.locator('[id="operations-Accounts-Accounts_freeze"]');
    await freeze.locator('.opblock-summary-control').click();
    await freeze.getByText('Needs the operator role or above.').waitFor();
    await page.screenshot({ path: path.join(shots, 'admin-api-docs.png'), fullPage: false });
  });

  it("the gateway's document in Swagger UI: every operation, bearer API key, the transaction body by type", async () => {
    await page.goto(`${stack.url('gateway')}/docs`);
    await page.getByRole('heading', { name: /Tally API/ }).waitFor();
    await page.getByRole('button', { name: 'Authorize' }).waitFor();
    const operations = page.locator('.opblock');
    await operations.first().waitFor();
    assert.ok((await operations.count()) >= 25, `${await operations.count()} operations shown`);
    // An operation opened shows its required Idempotency-Key and the bodies it takes, by type.
    const create = page.locator('[id="operations-Transactions-createTransaction"]');
    await create.locator('.opblock-summary-control').click();
    await create.getByText('Idempotency-Key').first().waitFor();
    await create.getByText('Checked before answering').waitFor();
    await create.scrollIntoViewIfNeeded();
    await page.screenshot({ path: path.join(shots, 'gateway-api-docs.png'), fullPage: false });
  });
});
