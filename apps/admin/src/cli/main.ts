/**
 * Operators' command line:  npm run tally -- <command> [args]
 *   tenants:create <name>   create a tenant and its first API key; prints {"tenantId","apiKey"}
 *   tenants:set-email <tenantId> <email|->   the tenant's notification address (- clears it)
 *   ledger:verify           check the ledger's invariants over the whole database; exit 1 on any violation
 */
import { databaseEnv, loadEnv } from '#config';
import { generateApiKey, newId } from '#domain';
import { runMain } from '#observability';
import { createDataSource, verifyLedger } from '#persistence';

const USAGE =
  'usage: npm run tally -- tenants:create <name> | tenants:set-email <tenantId> <email|-> | ledger:verify';

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
        const tenantId = newId('ten');
        const key = generateApiKey();
        await dataSource.transaction(async (m) => {
          await m.query(`INSERT INTO tenants (id, name) VALUES ($1, $2)`, [tenantId, name]);
          await m.query(
            `INSERT INTO api_keys (id, tenant_id, prefix, key_hash, name) VALUES ($1, $2, $3, $4, 'default')`,
            [newId('key'), tenantId, key.displayPrefix, key.hash],
          );
        });
        console.log(JSON.stringify({ tenantId, apiKey: key.plaintext }));
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
