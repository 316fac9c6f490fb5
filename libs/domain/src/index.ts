export * from './errors.js';
export * from './ids.js';
export * from './ledger/index.js';
export * from './messages.js';
export * from './money.js';
export * from './api-keys.js';
export * from './json.js';
