export * from './ledger.js';
export * from './ledger.module.js';
export * from './ledger.store.js';
export * from './low-balance.js';
export * from './system-accounts.js';
