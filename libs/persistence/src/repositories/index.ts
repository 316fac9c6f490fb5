export * from './account.repository.js';
export * from './ledger-entry.repository.js';
export * from './transaction.repository.js';
export * from './hold.repository.js';
export * from './meter.repository.js';
export * from './usage.repository.js';
export * from './webhook.repository.js';
export * from './product.repository.js';
