import { createHash, randomBytes } from 'node:crypto';

const KEY_PREFIX = 'tk_';

/** A new API key: `tk_` + 192 random bits (base64url). Shown once; only its hash is stored. */
export function generateApiKey(): { plaintext: string; hash: Buffer; displayPrefix: string } {
  const plaintext = KEY_PREFIX + randomBytes(24).toString('base64url');
  return { plaintext, hash: hashApiKey(plaintext), displayPrefix: plaintext.slice(0, 10) };
}

export function hashApiKey(plaintext: string): Buffer {
  return createHash('sha256').update(plaintext, 'utf8').digest();
}

/** Cheap shape check before any lookup: keys are `tk_` + 32 base64url characters. */
export function looksLikeApiKey(value: string): boolean {
  return /^tk_[A-Za-z0-9_-]{32}$/.test(value);
}

/**
 * The token of an `Authorization: Bearer <token>` header, read as every Tally edge reads it: the
 * scheme in any case, any spacing; null for anything else.
 */
export function bearerToken(header: unknown): string | null {
  const match = typeof header === 'string' ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
  return match ? match[1]! : null;
}
