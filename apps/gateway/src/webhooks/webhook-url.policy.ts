import { Resolver } from 'node:dns/promises';
import { isIP } from 'node:net';
import { Inject, Injectable } from '@nestjs/common';
import { WebhookUrlRefusedError, isAddressAllowed } from '#domain';

export interface WebhookUrlOptions {
  production: boolean;
  allowedHosts: string[];
  /** The DNS servers to ask (`ip` or `ip:port`); none: the system's (resolv.conf). */
  dnsServers: string[];
  /** How long the host's addresses may take to resolve before the URL is refused. */
  dnsTimeoutMs: number;
}

/** DNS errors meaning "no answer in time" (ECANCELLED: the deadline below cancelled the query). */
const NO_ANSWER = new Set(['ETIMEOUT', 'ECANCELLED']);

/**
 * Where a tenant may point a webhook: https in production; no credentials in the URL; and a host
 * that resolves only to public addresses, unless WEBHOOK_ALLOWED_HOSTS names it (or a CIDR holding
 * its addresses). The notification app checks the addresses again when it connects (DNS changes).
 *
 * The host's name servers are the tenant's to choose, and may never answer: lookups go through
 * c-ares (dns.Resolver, not getaddrinfo, which would hold a libuv thread for the system's own
 * timeout) and are cancelled after `dnsTimeoutMs`. Callers check before opening a database
 * transaction.
 */
@Injectable()
export class WebhookUrlPolicy {
  constructor(@Inject('WEBHOOK_URL_OPTIONS') private readonly options: WebhookUrlOptions) {}

  async check(raw: string): Promise<string> {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw new WebhookUrlRefusedError('The URL is not valid.');
    }
    if (url.protocol !== 'https:' && !(url.protocol === 'http:' && !this.options.production)) {
      throw new WebhookUrlRefusedError(
        this.options.production ? 'Webhook URLs must use https.' : 'Webhook URLs must use http or https.',
      );
    }
    if (url.username || url.password)
      throw new WebhookUrlRefusedError('Webhook URLs may not carry credentials.');
    const host = url.hostname.replace(/^\[|\]$/g, '');
    // A host the operator allowed by name may have any address: nothing to look up.
    if (this.options.allowedHosts.some((entry) => entry.toLowerCase() === host.toLowerCase())) {
      return url.toString();
    }
    const addresses = isIP(host) ? [host] : await this.resolve(host);
    const refused = addresses.filter((a) => !isAddressAllowed(host, a, this.options.allowedHosts));
    if (refused.length > 0) {
      throw new WebhookUrlRefusedError(
        `The host ${host} resolves to a private, loopback or link-local address (${refused[0]}); allow it with WEBHOOK_ALLOWED_HOSTS.`,
      );
    }
    return url.toString();
  }

  /** The host's IPv4 and IPv6 addresses, asked for at once; refused if none come in time. */
  private async resolve(host: string): Promise<string[]> {
    const { dnsServers, dnsTimeoutMs } = this.options;
    const resolver = new Resolver({ timeout: dnsTimeoutMs, tries: 1 });
    if (dnsServers.length > 0) resolver.setServers(dnsServers);
    const deadline = setTimeout(() => resolver.cancel(), dnsTimeoutMs);
    try {
      const answers = await Promise.allSettled([resolver.resolve4(host), resolver.resolve6(host)]);
      const addresses = answers.flatMap((a) => (a.status === 'fulfilled' ? a.value : []));
      if (addresses.length > 0) return addresses;
      const unanswered = answers.some(
        (a) => a.status === 'rejected' && NO_ANSWER.has((a.reason as { code?: string }).code ?? ''),
      );
      throw new WebhookUrlRefusedError(
        unanswered
          ? `The host ${host} did not resolve within ${dnsTimeoutMs / 1000} s (its name servers did not answer).`
          : `The host ${host} cannot be resolved.`,
      );
    } finally {
      clearTimeout(deadline);
    }
  }
}
