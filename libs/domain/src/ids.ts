import { randomFillSync } from 'node:crypto';

// Crockford base32, as ULID uses: sorts the same as a string and as a time.
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

// Random bytes are drawn from the CSPRNG a pool at a time: one call per 409 ids instead of one
// per id (a call costs more than the bytes; ids are minted several times per request).
const POOL_SIZE = 4096;
const pool = Buffer.alloc(POOL_SIZE);
let poolOffset = POOL_SIZE;

function randomChars(): string {
  if (poolOffset + 10 > POOL_SIZE) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  // 80 bits -> 16 base32 characters, 5 bits at a time (40 bits fit a double exactly).
  let random = '';
  for (let half = 0; half < 2; half++) {
    let value = 0;
    for (let i = 0; i < 5; i++) value = value * 256 + pool[poolOffset++];
    for (let shift = 35; shift >= 0; shift -= 5) random += ALPHABET[Math.floor(value / 2 ** shift) % 32];
  }
  return random;
}

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
  return time + randomChars();
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
  | 'adj'
  | 'prod'
  | 'ord'
  | 'rat'
  | 'cs';

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
