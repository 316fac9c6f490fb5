/**
 * Operators' command line:  npm run tally -- <command> [args]
 *   tenants:create <name>   create a tenant and its first API key; prints {"tenantId","apiKey"}; with
 *                           CELL_NAME and CELL_DIRECTORY_URL, registered to that cell (docs/scaling.md)
 *   cells:register          register every tenant and live API key of this cell in the directory
 *                           (CELL_NAME, CELL_DIRECTORY_URL): for those made before it was a cell
 *   tenants:set-email <tenantId> <email|->   the tenant's notification address (- clears it)
 *   ledger:verify           check the ledger's invariants over the whole database; exit 1 on any violation
 *   recommendations:rebuild count every completed order into "bought together" again, then copy
 *                           each product's neighbours to Redis (REDIS_URL; unset: PostgreSQL only)
 *   webhooks:reencrypt [tenantId]   seal webhook secrets (all, or one tenant's) under the first
 *                           WEBHOOK_ENCRYPTION_KEYS key: after adding a key, or for secrets stored
 *                           before encryption at rest; the stored answers that show a secret
 *                           (endpoint creation and rotation, kept for Idempotency-Key replays) too
 *   payouts:reconcile [--since=<ISO time>]   compare the payouts created since then (default: 72 h
 *                           ago) with the payment provider's report (PAYOUT_PROVIDER_URL); record and
 *                           print the mismatches (one JSON line each, then a summary); exit 1 if any
 */
import {
  cellEnv,
  cellOf,
  databaseEnv,
  loadEnv,
  payoutProviderEnv,
  redisEnv,
  runtimeEnv,
  webhookEnv,
} from '#config';
import { HttpPayoutProvider, reconcilePayouts } from '#payouts';
import { runMain } from '#http';
import {
  BoughtTogether,
  CellDirectory,
  IdempotencyStore,
  NeighbourSets,
  PayoutRepository,
  SecretBox,
  answerContext,
  createDataSource,
  verifyLedger,
} from '#persistence';
import { CellRegistration } from '../tenants/cell-registration.js';
import { insertTenant } from '../tenants/insert-tenant.js';

const USAGE =
  'usage: npm run tally -- tenants:create <name> | cells:register | tenants:set-email <tenantId> <email|-> | ledger:verify | recommendations:rebuild | webhooks:reencrypt [tenantId] | payouts:reconcile [--since=<ISO time>]';

async function main(): Promise<number> {
  const [command, ...args] = process.argv.slice(2);
  const config = loadEnv(databaseEnv);
  const dataSource = createDataSource({ ...config, DATABASE_POOL_MAX: 2 }, 'tally-cli');
  await dataSource.initialize();
  try {
    switch (command) {
      case 'tenants:create': {
        const name = args.join(' ').trim();
        if (!name || name.length > 200) {
          console.error('tenants:create needs a name (1-200 characters)');
          return 2;
        }
        // In a cell (docs/scaling.md), the tenant and its key are registered in the directory
        // before the cell's transaction commits, as the admin app does.
        const cell = new CellRegistration(cellOf(loadEnv(cellEnv)));
        const { tenantId, apiKey } = await dataSource
          .transaction(async (m) => {
            const created = await insertTenant(m, name);
            await cell.register(created.tenantId, created.keyHash);
            return created;
          })
          .finally(() => cell.onApplicationShutdown());
        console.log(JSON.stringify({ tenantId, apiKey }));
        return 0;
      }
      case 'tenants:set-email': {
        const [tenantId, email] = args;
        if (!tenantId || !email || (email !== '-' && !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email))) {
          console.error('tenants:set-email needs a tenant id and an email address (or - to clear it)');
          return 2;
        }
        const [, count]: [unknown, number] = await dataSource.query(
          `UPDATE tenants SET notification_email = $2 WHERE id = $1`,
          [tenantId, email === '-' ? null : email],
        );
        if (count === 0) {
          console.error(`no tenant ${tenantId}`);
          return 1;
        }
        console.log(JSON.stringify({ tenantId, notificationEmail: email === '-' ? null : email }));
        return 0;
      }
      case 'webhooks:reencrypt': {
        const { WEBHOOK_ENCRYPTION_KEYS: keys } = loadEnv({ ...runtimeEnv, ...webhookEnv });
        const box = SecretBox.forKeys(keys);
        const result = await reencryptWebhookSecrets(dataSource, box, args[0]);
        console.log(JSON.stringify(result));
        if (result.unreadable.length > 0) {
          console.error(`${result.unreadable.length} secrets are under a key that is not configured`);
          return 1;
        }
        return 0;
      }
      case 'payouts:reconcile': {
        const provider = loadEnv(payoutProviderEnv);
        if (!provider.PAYOUT_PROVIDER_URL) {
          console.error('payouts:reconcile needs PAYOUT_PROVIDER_URL (and PAYOUT_PROVIDER_API_KEY)');
          return 2;
        }
        const sinceArg = args.find((a) => a.startsWith('--since='))?.slice('--since='.length);
        const since = sinceArg ? new Date(sinceArg) : new Date(Date.now() - 72 * 3_600_000);
        if (Number.isNaN(since.getTime())) {
          console.error('--since must be a date and time, e.g. 2026-12-01T00:00:00Z');
          return 2;
        }
        const result = await reconcilePayouts(
          dataSource,
          new PayoutRepository(),
          new HttpPayoutProvider({
            url: provider.PAYOUT_PROVIDER_URL,
            apiKey: provider.PAYOUT_PROVIDER_API_KEY,
            timeoutMs: provider.PAYOUT_PROVIDER_TIMEOUT_MS,
          }),
          since,
        );
        for (const m of result.mismatches) console.log(JSON.stringify(m));
        console.log(
          JSON.stringify({
            since: since.toISOString(),
            compared: result.compared,
            mismatches: result.mismatches.length,
            // Outcomes the worker's reconciliation job applies on its next run.
            resolvable: result.resolvable.length,
          }),
        );
        return result.mismatches.length > 0 ? 1 : 0;
      }
      case 'recommendations:rebuild': {
        const redis = loadEnv(redisEnv);
        const job = new BoughtTogether(
          dataSource,
          redis.REDIS_URL
            ? NeighbourSets.connect(
                redis.REDIS_URL,
                redis.REDIS_KEY_PREFIX,
                Math.max(redis.REDIS_TIMEOUT_MS, 2_000),
              )
            : null,
        );
        try {
          const run = await job.rebuild();
          // Not run: a worker was counting at that moment (its run ends soon, interval permitting).
          if (!run.ran) {
            console.error('another run of the job holds its lock (a worker is counting): try again');
            return 1;
          }
          console.log(JSON.stringify({ orders: run.orders, productsCopiedToRedis: run.synced }));
          if (run.syncError) {
            console.error(`copying to Redis failed (the worker's next run retries): ${run.syncError}`);
            return 1;
          }
          return 0;
        } finally {
          await job.close();
        }
      }
      case 'cells:register': {
        // Tenants and keys made before this deployment became a cell (or while the directory was
        // being set up): registered now, idempotently. Revoked keys are left out.
        const cell = cellOf(loadEnv(cellEnv));
        if (!cell) {
          console.error('cells:register needs CELL_NAME and CELL_DIRECTORY_URL');
          return 2;
        }
        const directory = CellDirectory.open(cell.directoryUrl, 'tally-cli-directory', 1);
        try {
          const tenants: { id: string }[] = await dataSource.query(`SELECT id FROM tenants`);
          const keys: { tenantId: string; keyHash: Buffer }[] = await dataSource.query(
            `SELECT tenant_id AS "tenantId", key_hash AS "keyHash" FROM api_keys WHERE revoked_at IS NULL`,
          );
          await directory.register(
            cell.name,
            tenants.map((t) => t.id),
            keys,
          );
          console.log(JSON.stringify({ cell: cell.name, tenants: tenants.length, keys: keys.length }));
          return 0;
        } finally {
          await directory.close();
        }
      }
      case 'ledger:verify': {
        const report = await verifyLedger(dataSource);
        const { transactions, entries, accounts } = report.counts;
        console.log(`ledger:verify — ${transactions} transactions, ${entries} entries, ${accounts} accounts`);
        for (const check of report.checks) {
          console.log(
            `${check.violations === 0 ? 'ok  ' : 'FAIL'}  ${check.name}${check.violations ? ` (${check.violations})` : ''}`,
          );
          for (const example of check.examples) console.log(`        ${JSON.stringify(example)}`);
        }
        console.log(report.ok ? 'ledger:verify passed' : 'ledger:verify FAILED');
        return report.ok ? 0 : 1;
      }
      default:
        console.error(USAGE);
        return 2;
    }
  } finally {
    await dataSource.destroy();
  }
}

runMain(main);

/**
 * Opens each stale secret (plaintext or under an older key) and seals it under the current key.
 * Rows under a key that is not configured are left as they are and reported.
 */
async function reencryptWebhookSecrets(
  dataSource: import('typeorm').DataSource,
  box: SecretBox,
  tenantId: string | undefined,
) {
  let reencrypted = 0;
  const unreadable: string[] = [];
  const rows: { id: string; secret: string; previous_secret: string | null }[] = await dataSource.query(
    `SELECT id, secret, previous_secret FROM webhook_endpoints WHERE $1::text IS NULL OR tenant_id = $1 ORDER BY id`,
    [tenantId ?? null],
  );
  for (const row of rows) {
    const stale =
      box.isStale(row.secret) || (row.previous_secret !== null && box.isStale(row.previous_secret));
    if (!stale) continue;
    let sealed: [string, string | null];
    try {
      const reseal = (v: string | null) => (v === null ? null : box.seal(box.open(v, row.id), row.id));
      sealed = [reseal(row.secret)!, reseal(row.previous_secret)];
    } catch {
      unreadable.push(row.id);
      continue;
    }
    // Only if unchanged meanwhile (a rotation in between wins; run again to catch it).
    const [, count]: [unknown, number] = await dataSource.query(
      `UPDATE webhook_endpoints SET secret = $2, previous_secret = $3
        WHERE id = $1 AND secret = $4 AND previous_secret IS NOT DISTINCT FROM $5`,
      [row.id, sealed[0], sealed[1], row.secret, row.previous_secret],
    );
    reencrypted += count;
  }
  // Answers kept for Idempotency-Key replays that show a secret: sealed ones under an older key,
  // and any written in clear before such answers were sealed.
  const idempotencyKeys = new IdempotencyStore();
  const answers = await idempotencyKeys.answersWithSecrets(dataSource.manager, tenantId ?? null);
  for (const row of answers) {
    if (!box.isStale(row.response_body)) continue;
    const context = answerContext(row.tenant_id, row.key);
    let sealed: string;
    try {
      sealed = box.seal(box.open(row.response_body, context), context);
    } catch {
      unreadable.push(`idempotency key ${row.key} of ${row.tenant_id}`);
      continue;
    }
    const replaced = await idempotencyKeys.replaceBody(
      dataSource.manager,
      row.tenant_id,
      row.key,
      sealed,
      row.response_body,
    );
    if (replaced) reencrypted += 1;
  }
  return { reencrypted, unreadable };
}
