export * from './http-payout-provider.js';
export * from './payout-provider.js';
export * from './reconciliation.js';
export * from './settle-payout.js';
