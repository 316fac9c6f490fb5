import { Module } from '@nestjs/common';
import { Ledger } from './ledger.js';
import { LedgerStore } from './ledger.store.js';
import { SystemAccounts } from './system-accounts.js';

/** The ledger for an app that moves money; needs PersistenceModule (global) for its repositories. */
@Module({
  providers: [Ledger, LedgerStore, SystemAccounts],
  exports: [Ledger],
})
export class LedgerModule {}
