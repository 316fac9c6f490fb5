/** Message contracts between the apps. Bump the schema version when a payload changes shape. */

export const MessageTypes = {
  transactionRequested: 'transaction.requested',
  transactionSucceeded: 'transaction.succeeded',
  transactionFailed: 'transaction.failed',
  accountBalanceLow: 'account.balance_low',
} as const;

/** Command: apply a pending transaction (its intent row holds the details). */
export interface TransactionRequested {
  transactionId: string;
  tenantId: string;
}

/** Event body, as webhooks will see it: `{ id, type, createdAt, data }`. */
export interface TallyEvent<T = Record<string, unknown>> {
  id: string;
  type: string;
  tenantId: string;
  createdAt: string;
  data: T;
}
