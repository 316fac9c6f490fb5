export * from './errors.js';
export * from './ledger-rules.js';
export * from './transaction-state.js';
export * from './routing.js';
