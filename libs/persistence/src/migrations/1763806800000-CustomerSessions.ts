import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Storefronts' customer sessions (docs/security.md, "Customer sessions").
 *
 * A session (`cs_…`) belongs to one account of one tenant and ends at `expires_at` whatever
 * happens, or earlier when `revoked_at` is set; every request with one of its access tokens
 * looks it up by primary key, so a revocation counts from the next request.
 * Its refresh tokens are stored only as SHA-256 hashes. Each refresh spends one (`used_at`) and
 * issues the next; spent ones are kept while the session lives, so a spent token presented again
 * is recognised (and revokes the session) rather than merely unknown. Rows go with their session
 * (ON DELETE CASCADE) when the gateway's sweep deletes sessions a day after they ended.
 */
export class CustomerSessions1763806800000 implements MigrationInterface {
  name = 'CustomerSessions1763806800000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE customer_sessions (
        id             text PRIMARY KEY,
        tenant_id      text NOT NULL REFERENCES tenants (id),
        account_id     text NOT NULL REFERENCES accounts (id),
        created_at     timestamptz NOT NULL DEFAULT now(),
        expires_at     timestamptz NOT NULL,
        revoked_at     timestamptz,
        revoked_reason text CHECK (revoked_reason IN ('refresh_token_reused')),
        CHECK ((revoked_at IS NULL) = (revoked_reason IS NULL))
      )`);
    await q.query(`CREATE INDEX customer_sessions_account_idx ON customer_sessions (account_id)`);
    await q.query(`CREATE INDEX customer_sessions_expiry_idx ON customer_sessions (expires_at)`);
    await q.query(`
      CREATE TABLE customer_refresh_tokens (
        token_hash  bytea PRIMARY KEY CHECK (octet_length(token_hash) = 32),
        session_id  text NOT NULL REFERENCES customer_sessions (id) ON DELETE CASCADE,
        created_at  timestamptz NOT NULL DEFAULT now(),
        used_at     timestamptz
      )`);
    await q.query(`CREATE INDEX customer_refresh_tokens_session_idx ON customer_refresh_tokens (session_id)`);
    await q.query(
      `GRANT SELECT, INSERT, UPDATE, DELETE ON customer_sessions, customer_refresh_tokens TO tally_app`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE customer_refresh_tokens, customer_sessions`);
  }
}
