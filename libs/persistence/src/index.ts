export * from './data-source.js';
export * from './entities/index.js';
export * from './inbox.store.js';
export * from './outbox.store.js';
export * from './persistence.module.js';
export * from './database-readiness.js';
