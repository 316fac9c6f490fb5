import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

const PREFIX = 'enc:v1:';

/**
 * Encrypts secrets the apps must read back (webhook signing secrets) with AES-256-GCM under a key
 * from the environment. The first key encrypts; every key decrypts, so keys can be rotated: add
 * the new key first, re-encrypt (`npm run tally -- webhooks:reencrypt`), then drop the old one.
 * Each value is bound to its row (`context`, the endpoint id): a ciphertext copied onto another
 * row does not open. Stored form: `enc:v1:<key id>:<iv>:<ciphertext>:<tag>` (base64url).
 */
export class SecretBox {
  private readonly keys: { id: string; key: Buffer }[];

  constructor(keys: Buffer[]) {
    if (keys.length === 0) throw new Error('SecretBox needs at least one key');
    for (const key of keys) if (key.length !== 32) throw new Error('SecretBox keys are 32 bytes');
    this.keys = keys.map((key) => ({ id: keyId(key), key }));
  }

  /**
   * The box for WEBHOOK_ENCRYPTION_KEYS as configured; none configured (development and tests —
   * production configs refuse that) means a fixed development key.
   */
  static forKeys(keys: Buffer[]): SecretBox {
    return new SecretBox(keys.length > 0 ? keys : [DEVELOPMENT_SECRET_KEY]);
  }

  seal(plaintext: string, context: string): string {
    const { id, key } = this.keys[0];
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    cipher.setAAD(Buffer.from(context));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return (
      PREFIX + [id, iv, body, cipher.getAuthTag()].map((p) => (typeof p === 'string' ? p : b64(p))).join(':')
    );
  }

  open(stored: string, context: string): string {
    if (!stored.startsWith(PREFIX)) return stored; // written before encryption at rest (re-encrypt them)
    const [id, iv, body, tag] = stored.slice(PREFIX.length).split(':');
    const entry = this.keys.find((k) => k.id === id);
    if (!entry) throw new Error(`secret encrypted under key ${id}, which is not configured`);
    const decipher = createDecipheriv('aes-256-gcm', entry.key, Buffer.from(iv, 'base64url'));
    decipher.setAAD(Buffer.from(context));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString(
      'utf8',
    );
  }

  /** Whether `stored` is plaintext or under an older key (and should be sealed again). */
  isStale(stored: string): boolean {
    return !stored.startsWith(`${PREFIX}${this.keys[0].id}:`);
  }
}

/**
 * What an Idempotency-Key's stored answer is sealed to when it carries a secret (a webhook
 * endpoint's creation or rotation): its row, so the ciphertext opens for no other tenant or key.
 */
export function answerContext(tenantId: string, key: string): string {
  return `idempotency_keys:${tenantId}:${key}`;
}

const b64 = (bytes: Buffer) => bytes.toString('base64url');
const keyId = (key: Buffer) => createHash('sha256').update(key).digest('hex').slice(0, 8);

/** Only for development and tests, where no key is configured; production refuses to start without one. */
const DEVELOPMENT_SECRET_KEY = createHash('sha256')
  .update('tally development webhook key: never used in production')
  .digest();
