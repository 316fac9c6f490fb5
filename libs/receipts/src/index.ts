export * from './receipt-document.js';
export * from './receipt.repository.js';
export * from './receipts.js';
export * from './receipts.module.js';
export * from './receipt-response.js';
