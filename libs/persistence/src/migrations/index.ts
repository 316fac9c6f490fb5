import { MessagingBackbone1763726400000 } from './1763726400000-MessagingBackbone.js';
import { Ledger1763730000000 } from './1763730000000-Ledger.js';
import { OutboxNotifyAfterCommit1763733600000 } from './1763733600000-OutboxNotifyAfterCommit.js';
import { HoldsAndUsage1763740800000 } from './1763740800000-HoldsAndUsage.js';
import { Webhooks1763744400000 } from './1763744400000-Webhooks.js';
import { Operators1763748000000 } from './1763748000000-Operators.js';
import { DeadLetters1763751600000 } from './1763751600000-DeadLetters.js';
import { Adjustments1763755200000 } from './1763755200000-Adjustments.js';
import { MetricsIndexes1763758800000 } from './1763758800000-MetricsIndexes.js';
import { UsageReruns1763762400000 } from './1763762400000-UsageReruns.js';
import { MigrationsVisibleToApp1763766000000 } from './1763766000000-MigrationsVisibleToApp.js';
import { HotTransactionOutcomes1763769600000 } from './1763769600000-HotTransactionOutcomes.js';
import { OutboxParking1763773200000 } from './1763773200000-OutboxParking.js';
import { AdjustmentControls1763777700000 } from './1763777700000-AdjustmentControls.js';
import { WebhookAccountOrder1763778000000 } from './1763778000000-WebhookAccountOrder.js';
import { Commerce1763781600000 } from './1763781600000-Commerce.js';
import { EventQueries1763785200000 } from './1763785200000-EventQueries.js';
import { ReceiptEmails1763785500000 } from './1763785500000-ReceiptEmails.js';
import { Ratings1763792400000 } from './1763792400000-Ratings.js';
import { BoughtTogether1763799600000 } from './1763799600000-BoughtTogether.js';
import { MetricSamples1763803200000 } from './1763803200000-MetricSamples.js';
import { CustomerSessions1763806800000 } from './1763806800000-CustomerSessions.js';
import { Payouts1763810400000 } from './1763810400000-Payouts.js';
import { PayoutOversight1763814000000 } from './1763814000000-PayoutOversight.js';
import { PayoutMismatchKinds1763817600000 } from './1763817600000-PayoutMismatchKinds.js';
import { ProviderEventRetries1763821200000 } from './1763821200000-ProviderEventRetries.js';
import { UsageChargesOutsideLock1763824800000 } from './1763824800000-UsageChargesOutsideLock.js';
import { LedgerEntriesAccountOfTenant1763828400000 } from './1763828400000-LedgerEntriesAccountOfTenant.js';
import { UsageEventsUnreadIndex1763832000000 } from './1763832000000-UsageEventsUnreadIndex.js';
import { UsageEventsLeanerAccept1763835600000 } from './1763835600000-UsageEventsLeanerAccept.js';

/** Every migration, oldest first. A new migration is added here and nowhere else. */
export const migrations = [
  MessagingBackbone1763726400000,
  Ledger1763730000000,
  OutboxNotifyAfterCommit1763733600000,
  HoldsAndUsage1763740800000,
  Webhooks1763744400000,
  Operators1763748000000,
  DeadLetters1763751600000,
  Adjustments1763755200000,
  MetricsIndexes1763758800000,
  UsageReruns1763762400000,
  MigrationsVisibleToApp1763766000000,
  HotTransactionOutcomes1763769600000,
  OutboxParking1763773200000,
  AdjustmentControls1763777700000,
  WebhookAccountOrder1763778000000,
  Commerce1763781600000,
  EventQueries1763785200000,
  ReceiptEmails1763785500000,
  Ratings1763792400000,
  BoughtTogether1763799600000,
  MetricSamples1763803200000,
  CustomerSessions1763806800000,
  Payouts1763810400000,
  PayoutOversight1763814000000,
  PayoutMismatchKinds1763817600000,
  ProviderEventRetries1763821200000,
  UsageChargesOutsideLock1763824800000,
  LedgerEntriesAccountOfTenant1763828400000,
  UsageEventsUnreadIndex1763832000000,
  UsageEventsLeanerAccept1763835600000,
];
