import type { EntityManager } from 'typeorm';
import { generateApiKey, newId } from '#domain';

/**
 * A new tenant and its first API key ("default"), in the caller's transaction. The key's plaintext
 * is in the answer and nowhere else: only its hash is stored.
 */
export async function insertTenant(
  manager: EntityManager,
  name: string,
  notificationEmail: string | null = null,
): Promise<{ tenantId: string; keyId: string; apiKey: string; keyHash: Buffer }> {
  const tenantId = newId('ten');
  const keyId = newId('key');
  const key = generateApiKey();
  await manager.query(`INSERT INTO tenants (id, name, notification_email) VALUES ($1, $2, $3)`, [
    tenantId,
    name,
    notificationEmail,
  ]);
  await manager.query(
    `INSERT INTO api_keys (id, tenant_id, prefix, key_hash, name) VALUES ($1, $2, $3, $4, 'default')`,
    [keyId, tenantId, key.displayPrefix, key.hash],
  );
  return { tenantId, keyId, apiKey: key.plaintext, keyHash: key.hash };
}
