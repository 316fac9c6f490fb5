import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { isAddressAllowed } from '#domain';

export interface SendResult {
  statusCode: number | null;
  latencyMs: number;
  /** The start of the response body, for the delivery log. */
  snippet: string | null;
  retryAfter: string | null;
  error: string | null;
}

const SNIPPET_BYTES = 1024;

/**
 * POSTs one webhook. The connection's own DNS lookup refuses private, loopback and link-local
 * addresses (unless allow-listed), so a host that re-resolves after registration cannot reach
 * inside (SSRF). Redirects are not followed; the whole exchange is bounded by `timeoutMs`.
 */
export function sendWebhook(
  url: string,
  headers: Record<string, string>,
  body: string,
  options: { timeoutMs: number; allowedHosts: string[] },
): Promise<SendResult> {
  const started = performance.now();
  const target = new URL(url);
  const host = target.hostname.replace(/^\[|\]$/g, '');
  const refused = (address: string) =>
    new Error(`refused: ${host} resolves to ${address}, a private, loopback or link-local address`);
  const lookup: LookupFunction = (hostname, opts, callback) => {
    dnsLookup(hostname, { ...opts, all: true }, (error, addresses: LookupAddress[]) => {
      if (error) return callback(error, '', 4);
      const bad = addresses.find((a) => !isAddressAllowed(host, a.address, options.allowedHosts));
      if (bad) return callback(refused(bad.address), '', 4);
      if (opts.all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, addresses);
      callback(null, addresses[0].address, addresses[0].family);
    });
  };
  return new Promise((resolve) => {
    const done = (partial: Omit<SendResult, 'latencyMs'>) =>
      resolve({ ...partial, latencyMs: Math.round(performance.now() - started) });
    if (isIP(host) && !isAddressAllowed(host, host, options.allowedHosts)) {
      return done({ statusCode: null, snippet: null, retryAfter: null, error: refused(host).message });
    }
    const client = target.protocol === 'https:' ? https : http;
    const request = client.request(
      target,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': 'Tally-Webhooks/1', ...headers },
        lookup,
        timeout: options.timeoutMs,
      },
      (response) => {
        const chunks: Buffer[] = [];
        let size = 0;
        response.on('data', (chunk: Buffer) => {
          if (size < SNIPPET_BYTES) chunks.push(chunk);
          size += chunk.length;
        });
        response.on('end', () =>
          done({
            statusCode: response.statusCode ?? null,
            snippet: Buffer.concat(chunks).subarray(0, SNIPPET_BYTES).toString('utf8') || null,
            retryAfter: (response.headers['retry-after'] as string | undefined) ?? null,
            error: null,
          }),
        );
        response.on('error', (error) =>
          done({
            statusCode: response.statusCode ?? null,
            snippet: null,
            retryAfter: null,
            error: error.message,
          }),
        );
      },
    );
    const deadline = setTimeout(
      () => request.destroy(new Error(`no answer within ${options.timeoutMs} ms`)),
      options.timeoutMs,
    );
    request.on('close', () => clearTimeout(deadline));
    request.on('timeout', () => request.destroy(new Error(`no answer within ${options.timeoutMs} ms`)));
    request.on('error', (error) =>
      done({ statusCode: null, snippet: null, retryAfter: null, error: error.message }),
    );
    request.end(body);
  });
}
