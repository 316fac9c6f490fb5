export * from './circuit-breaker.js';
export * from './payouts.js';
export * from './provider-signature.js';
