export * from './account.repository.js';
export * from './ledger-entry.repository.js';
export * from './transaction.repository.js';
export * from './views.js';
