import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The app role may read which migrations are applied, so an app can wait for the migration job
 * (`migrate --wait`) without the schema owner's credentials.
 */
export class MigrationsVisibleToApp1763766000000 implements MigrationInterface {
  name = 'MigrationsVisibleToApp1763766000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`GRANT SELECT ON schema_migrations TO tally_app`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`REVOKE SELECT ON schema_migrations FROM tally_app`);
  }
}
