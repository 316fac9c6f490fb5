import type { TransactionType } from './ledger-rules.js';

/** The tenant's accounts that stand for the world outside Tally, one per currency and kind. */
export type SystemAccountKind = 'external' | 'revenue';

/** One side of a movement: a customer account, or one of the tenant's system accounts. */
export type RouteSide = { account: string } | { system: SystemAccountKind };

export interface RoutedTransaction {
  type: TransactionType;
  sourceAccountId: string | null;
  destinationAccountId: string | null;
}

/**
 * The customer account a refund of `parent` takes the money back from; null when it comes out of
 * revenue. Money goes back the way it came: a transfer's refund debits its destination.
 */
export function refundSource(parent: RoutedTransaction): string | null {
  return parent.type === 'transfer' ? parent.destinationAccountId : null;
}

/**
 * Which account pays (`from`) and which receives (`to`), by transaction type. A refund needs its
 * parent (the caller has it locked).
 */
export function routeOf(
  t: RoutedTransaction,
  parent?: RoutedTransaction,
): { from: RouteSide; to: RouteSide } {
  const account = (id: string | null) => ({ account: id! });
  const system = (kind: SystemAccountKind) => ({ system: kind });
  switch (t.type) {
    case 'deposit':
      return { from: system('external'), to: account(t.destinationAccountId) };
    case 'withdrawal':
      return { from: account(t.sourceAccountId), to: system('external') };
    case 'transfer':
      return { from: account(t.sourceAccountId), to: account(t.destinationAccountId) };
    case 'charge':
    case 'capture':
      return { from: account(t.sourceAccountId), to: system('revenue') };
    case 'adjustment':
      // An operator's correction, against the outside world: a credit has a destination, a debit a source.
      return t.destinationAccountId
        ? { from: system('external'), to: account(t.destinationAccountId) }
        : { from: account(t.sourceAccountId), to: system('external') };
    case 'refund': {
      if (!parent) throw new Error('a refund is routed with its parent');
      const source = refundSource(parent);
      return { from: source ? account(source) : system('revenue'), to: account(parent.sourceAccountId) };
    }
  }
}
