import { Module } from '@nestjs/common';
import { ReceiptRepository } from './receipt.repository.js';
import { Receipts } from './receipts.js';

/** Receipts of completed orders; needs PersistenceModule (global) for the orders. */
@Module({
  providers: [Receipts, ReceiptRepository],
  exports: [Receipts],
})
export class ReceiptsModule {}
