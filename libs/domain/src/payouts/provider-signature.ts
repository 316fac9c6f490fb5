import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * The provider's webhook signature: `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">` with
 * the shared secret. The receiver checks the MAC and that `t` is recent (replay window).
 */
export function providerSignature(secret: string, timestampSeconds: number, body: string): string {
  const mac = createHmac('sha256', secret).update(`${timestampSeconds}.${body}`).digest('hex');
  return `t=${timestampSeconds},v1=${mac}`;
}

/** The header's timestamp and signatures, or null when it does not read as one. */
export function parseProviderSignature(header: string): { timestamp: number; signatures: string[] } | null {
  let timestamp: number | null = null;
  const signatures: string[] = [];
  for (const part of header.split(',')) {
    const [name, value] = part.trim().split('=', 2);
    if (name === 't' && value && /^\d{1,12}$/.test(value)) timestamp = Number(value);
    else if (name === 'v1' && value && /^[0-9a-f]{64}$/.test(value)) signatures.push(value);
  }
  return timestamp === null || signatures.length === 0 ? null : { timestamp, signatures };
}

/** Whether any v1 signature of `header` is the secret's over this timestamp and body. */
export function signatureMatches(secret: string, header: string, body: string): boolean {
  const parsed = parseProviderSignature(header);
  if (!parsed) return false;
  const expected = Buffer.from(providerSignature(secret, parsed.timestamp, body).split('v1=')[1], 'hex');
  return parsed.signatures.some((s) => {
    const given = Buffer.from(s, 'hex');
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
}
