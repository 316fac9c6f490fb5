import { randomBytes } from 'node:crypto';

// Crockford base32, as ULID uses: sorts the same as a string and as a time.
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** A 26-character, time-sortable (ms) identifier with 80 random bits: the ULID layout. */
export function ulid(now: number = Date.now()): string {
  if (!Number.isSafeInteger(now) || now < 0 || now > 2 ** 48 - 1) {
    throw new RangeError(`timestamp out of range: ${now}`);
  }
  let time = '';
  let t = now;
  for (let i = 0; i < 10; i++) {
    time = ALPHABET[t % 32] + time;
    t = Math.floor(t / 32);
  }
  const bytes = randomBytes(10);
  // 80 bits -> 16 base32 characters, 5 bits at a time.
  let random = '';
  let buffer = 0;
  let bits = 0;
  for (const byte of bytes) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      random += ALPHABET[(buffer >> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  return time + random;
}

export type IdPrefix =
  | 'acc'
  | 'txn'
  | 'hold'
  | 'evt'
  | 'whe'
  | 'msg'
  | 'ten'
  | 'key'
  | 'ent'
  | 'mtr'
  | 'dlv'
  | 'op'
  | 'rt'
  | 'dl'
  | 'adj';

/** Opaque prefixed id such as `txn_01JD3…`; lexical order is creation order. */
export function newId(prefix: IdPrefix, now?: number): string {
  return `${prefix}_${ulid(now)}`;
}

const ID_PATTERNS = new Map<IdPrefix, RegExp>();

/** Whether `value` is a well-formed id of this kind (it may still not exist). */
export function hasIdPrefix(value: string, prefix: IdPrefix): boolean {
  let pattern = ID_PATTERNS.get(prefix);
  if (!pattern) ID_PATTERNS.set(prefix, (pattern = new RegExp(`^${prefix}_[${ALPHABET}]{26}$`)));
  return pattern.test(value);
}

/** The smallest id of this kind created at or after `time`: a time window as an id range (index-friendly). */
export function idFloor(prefix: IdPrefix, time: number): string {
  return `${prefix}_${ulid(time).slice(0, 10)}${'0'.repeat(16)}`;
}
