import pg from 'pg';
import { CELL_NAME_PATTERN } from '#config';
import { ensureDatabase } from '../data-source.js';

/** Thrown when a tenant is registered to one cell and something tries to give it to another. */
export class TenantInOtherCellError extends Error {
  constructor(
    readonly tenantId: string,
    readonly cell: string,
  ) {
    super(`tenant ${tenantId} lives in cell ${cell}`);
    this.name = 'TenantInOtherCellError';
  }
}

// Several cells' migrations may run at once; one creates the tables while the others wait.
const DIRECTORY_SCHEMA_LOCK = 7_316_002;

/**
 * Creates the directory's tables when they are missing, connected as the directory's owner, and
 * lets the apps' role (`tally_app`, when it exists) read and add entries — never change or remove
 * one: a tenant moves between cells by an operator's procedure (docs/scaling.md), not by an app.
 */
export async function migrateDirectory(ownerUrl: string): Promise<void> {
  await ensureDatabase(ownerUrl);
  const client = new pg.Client({ connectionString: ownerUrl, application_name: 'tally-directory-migrate' });
  await client.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [DIRECTORY_SCHEMA_LOCK]);
    await client.query(`
      CREATE TABLE IF NOT EXISTS cell_tenants (
        tenant_id  text PRIMARY KEY,
        cell       text NOT NULL CHECK (cell ~ '^[a-z0-9][a-z0-9-]{0,31}$'),
        created_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE TABLE IF NOT EXISTS cell_api_keys (
        key_hash   bytea PRIMARY KEY CHECK (octet_length(key_hash) = 32),
        tenant_id  text NOT NULL REFERENCES cell_tenants (tenant_id),
        created_at timestamptz NOT NULL DEFAULT now()
      );
      DO $$ BEGIN
        IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'tally_app') THEN
          GRANT USAGE ON SCHEMA public TO tally_app;
          GRANT SELECT, INSERT ON cell_tenants, cell_api_keys TO tally_app;
        END IF;
      END $$;`);
  } finally {
    await client.end();
  }
}

/**
 * The tenant → cell directory (docs/scaling.md, "Tenant cells"): one small database every cell's
 * admin writes to and the edge router reads. It holds where each tenant lives and the SHA-256 of
 * each of its API keys (never a key), so a request's key finds its cell without asking every cell.
 *
 * An admin registers a tenant or key here inside its own transaction, before that commits: a cell
 * transaction that then fails leaves an entry pointing at a cell that does not know the key, which
 * routes there and is refused (401) — never a key that works but cannot be routed.
 */
export class CellDirectory {
  private constructor(private readonly pool: pg.Pool) {}

  static open(url: string, applicationName: string, max = 4): CellDirectory {
    const pool = new pg.Pool({
      connectionString: url,
      application_name: applicationName,
      max,
      connectionTimeoutMillis: 5_000,
      statement_timeout: 5_000,
    });
    // An idle connection that breaks is replaced on next use; without a listener it would crash.
    pool.on('error', () => undefined);
    return new CellDirectory(pool);
  }

  /**
   * Records that the tenants live in `cell`, and their API keys' hashes: three statements whatever
   * the numbers. What is there already stays as it was (the apps' role may add an entry, never
   * change one); a tenant registered to another cell is refused (TenantInOtherCellError).
   */
  async register(cell: string, tenantIds: string[], keys: { tenantId: string; keyHash: Buffer }[] = []) {
    if (!CELL_NAME_PATTERN.test(cell)) throw new Error(`not a cell name: ${cell}`);
    await this.pool.query(
      `INSERT INTO cell_tenants (tenant_id, cell) SELECT unnest($1::text[]), $2 ON CONFLICT (tenant_id) DO NOTHING`,
      [tenantIds, cell],
    );
    const elsewhere: { tenant_id: string; cell: string }[] = (
      await this.pool.query(
        `SELECT tenant_id, cell FROM cell_tenants WHERE tenant_id = ANY($1::text[]) AND cell <> $2 LIMIT 1`,
        [tenantIds, cell],
      )
    ).rows;
    if (elsewhere[0]) throw new TenantInOtherCellError(elsewhere[0].tenant_id, elsewhere[0].cell);
    if (keys.length === 0) return;
    await this.pool.query(
      `INSERT INTO cell_api_keys (key_hash, tenant_id) SELECT * FROM unnest($1::bytea[], $2::text[])
         ON CONFLICT (key_hash) DO NOTHING`,
      [keys.map((k) => k.keyHash), keys.map((k) => k.tenantId)],
    );
  }

  /** The cell of the tenant whose API key hashes to `keyHash`; null when the key is not known. */
  async cellOfKey(keyHash: Buffer): Promise<string | null> {
    const rows: { cell: string }[] = (
      await this.pool.query(
        `SELECT t.cell FROM cell_api_keys k JOIN cell_tenants t USING (tenant_id) WHERE k.key_hash = $1`,
        [keyHash],
      )
    ).rows;
    return rows[0]?.cell ?? null;
  }

  /** The cell `tenantId` lives in; null when it is not registered. */
  async cellOfTenant(tenantId: string): Promise<string | null> {
    const rows: { cell: string }[] = (
      await this.pool.query(`SELECT cell FROM cell_tenants WHERE tenant_id = $1`, [tenantId])
    ).rows;
    return rows[0]?.cell ?? null;
  }

  /** Throws unless the directory answers (readiness). */
  async ping(): Promise<void> {
    await this.pool.query('SELECT 1');
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
