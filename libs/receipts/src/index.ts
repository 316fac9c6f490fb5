export * from './receipt-document.js';
export * from './receipts.js';
export * from './receipts.module.js';
