import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Operators of the admin app, their refresh tokens, and the append-only audit log. */
export class Operators1763748000000 implements MigrationInterface {
  name = 'Operators1763748000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE operators (
        id            text PRIMARY KEY,
        email         text NOT NULL,
        password_hash text NOT NULL,
        role          text NOT NULL CHECK (role IN ('viewer', 'operator', 'admin')),
        status        text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
        created_at    timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE UNIQUE INDEX operators_email_key ON operators (lower(email))`);

    // Refresh tokens rotate: each use spends one and issues the next in its family. A spent token
    // used again means it was stolen: the whole family is revoked.
    await q.query(`
      CREATE TABLE refresh_tokens (
        id          text PRIMARY KEY,
        operator_id text NOT NULL REFERENCES operators (id),
        family_id   text NOT NULL,
        token_hash  bytea NOT NULL UNIQUE,
        expires_at  timestamptz NOT NULL,
        used_at     timestamptz,
        revoked_at  timestamptz,
        created_at  timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX refresh_tokens_family_idx ON refresh_tokens (family_id)`);

    await q.query(`
      CREATE TABLE audit_log (
        id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        operator_id text REFERENCES operators (id),
        action      text NOT NULL,
        target_type text NOT NULL,
        target_id   text,
        reason      text,
        details     jsonb NOT NULL DEFAULT '{}'::jsonb,
        created_at  timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX audit_log_time_idx ON audit_log (created_at DESC)`);
    await q.query(`CREATE INDEX audit_log_target_idx ON audit_log (target_type, target_id)`);
    await q.query(`
      CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
      END $$`);
    await q.query(`
      CREATE TRIGGER audit_log_no_update_delete BEFORE UPDATE OR DELETE ON audit_log
      FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()`);
    await q.query(`
      CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
      FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()`);

    await q.query(`GRANT SELECT, INSERT, UPDATE ON operators, refresh_tokens TO tally_app`);
    await q.query(`GRANT SELECT, INSERT ON audit_log TO tally_app`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE audit_log, refresh_tokens, operators`);
    await q.query(`DROP FUNCTION audit_log_append_only()`);
  }
}
