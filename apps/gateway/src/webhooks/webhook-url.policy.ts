import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { Inject, Injectable } from '@nestjs/common';
import { WebhookUrlRefusedError, isAddressAllowed } from '#domain';

export interface WebhookUrlOptions {
  production: boolean;
  allowedHosts: string[];
}

/**
 * Where a tenant may point a webhook: https in production; no credentials in the URL; and a host
 * that resolves only to public addresses, unless WEBHOOK_ALLOWED_HOSTS names it (or a CIDR holding
 * its addresses). The notification app checks the addresses again when it connects (DNS changes).
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
    let addresses: string[];
    try {
      addresses = isIP(host)
        ? [host]
        : (await lookup(host, { all: true, verbatim: true })).map((a) => a.address);
    } catch {
      throw new WebhookUrlRefusedError(`The host ${host} cannot be resolved.`);
    }
    const refused = addresses.filter((a) => !isAddressAllowed(host, a, this.options.allowedHosts));
    if (refused.length > 0) {
      throw new WebhookUrlRefusedError(
        `The host ${host} resolves to a private, loopback or link-local address (${refused[0]}); allow it with WEBHOOK_ALLOWED_HOSTS.`,
      );
    }
    return url.toString();
  }
}
