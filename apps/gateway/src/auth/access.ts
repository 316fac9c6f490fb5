import { SetMetadata, applyDecorators } from '@nestjs/common';
import { ApiBearerAuth, ApiExtension, ApiSecurity } from '@nestjs/swagger';
import { ApiProblems } from '../docs/problems.js';

// Who may call a gateway route, as GatewayGuard enforces it and the document shows it.

/** The document's security scheme for API keys (`tk_…`): every route's, unless it says otherwise. */
export const API_KEY_SCHEME = 'apiKey';
/** The document's security scheme for storefronts' customer access tokens (JWTs). */
export const CUSTOMER_TOKEN_SCHEME = 'customerToken';

/**
 * What a customer access token may do (docs/api.md, "Customer sessions"). Every session is given
 * all of them today; a route names the one it needs, and routes that name none refuse the token.
 */
export const CUSTOMER_SCOPES = [
  'products:read',
  'account:read',
  'orders:read',
  'orders:write',
  'ratings:write',
] as const;
export type CustomerScope = (typeof CUSTOMER_SCOPES)[number];

/**
 * Where a route names the resource a customer must own: an account id (the token's own account
 * or nothing), or an order id (an order of the token's account). An account id in the query is a
 * filter: when absent, the guard sets it to the token's account.
 */
export type Owned =
  | { resource: 'account'; in: 'param' | 'body' | 'query'; name: string }
  | { resource: 'order'; in: 'param'; name: string };

export const ownAccount = {
  param: (name = 'id'): Owned => ({ resource: 'account', in: 'param', name }),
  body: (name = 'accountId'): Owned => ({ resource: 'account', in: 'body', name }),
  /** A list's filter (in the query string): the customer's own account when absent. */
  filter: (name = 'accountId'): Owned => ({ resource: 'account', in: 'query', name }),
};
export const ownOrder = (name = 'id'): Owned => ({ resource: 'order', in: 'param', name });

export interface CustomerAccess {
  scope: CustomerScope;
  owned?: Owned;
}

export const CUSTOMER_ACCESS = 'tally:customer-access';
export const NO_CREDENTIALS = 'tally:no-credentials';

/**
 * A storefront's customer access token may call this route, with `scope`, on what its account
 * owns (`owned`). Without this decorator a route answers a customer token 403 `forbidden`.
 * Documents both security schemes, the scope (`x-customer-scope`) and the ownership 404.
 */
export const AllowCustomer = (scope: CustomerScope, owned?: Owned) =>
  applyDecorators(
    SetMetadata(CUSTOMER_ACCESS, { scope, owned } satisfies CustomerAccess),
    ApiSecurity(API_KEY_SCHEME),
    ApiBearerAuth(CUSTOMER_TOKEN_SCHEME),
    ApiExtension('x-customer-scope', scope),
    // What the ownership check answers: another account's resource does not exist for the token.
    ...(owned ? [ApiProblems(owned.resource === 'order' ? 'order_not_found' : 'account_not_found')] : []),
  );

/** Which per-address bucket a route without credentials spends. */
export type AddressBucket = 'customer-refresh' | 'provider-events';

/**
 * Called without credentials, rate-limited per client address in `bucket`: refreshing a customer
 * session (a tight bucket), or a payment provider's signed events (the events class's allowance:
 * a provider sends its webhooks from a few addresses, in bursts).
 */
export const NoCredentials = (bucket: AddressBucket) =>
  applyDecorators(SetMetadata(NO_CREDENTIALS, bucket), ApiSecurity({}));
