import { InvalidTransitionError } from './errors.js';

export const TRANSACTION_STATUSES = ['pending', 'processing', 'succeeded', 'failed'] as const;
export type TransactionStatus = (typeof TRANSACTION_STATUSES)[number];

const NEXT: Record<TransactionStatus, readonly TransactionStatus[]> = {
  pending: ['processing'],
  processing: ['succeeded', 'failed'],
  succeeded: [],
  failed: [],
};

/** Final states are sticky: whatever is redelivered, a finished transaction stays as it is. */
export function isTerminal(status: TransactionStatus): boolean {
  return NEXT[status].length === 0;
}

export function assertTransition(from: TransactionStatus, to: TransactionStatus): void {
  if (!NEXT[from].includes(to)) throw new InvalidTransitionError(from, to);
}
