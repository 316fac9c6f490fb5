export * from './product-cache-store.js';
export * from './product-writes.js';
