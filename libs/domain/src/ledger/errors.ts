import { DomainError } from '../errors.js';

export class AccountNotFoundError extends DomainError {
  readonly code = 'account_not_found';
  constructor(readonly accountId: string) {
    super(`Account ${accountId} does not exist.`);
  }
}

export class TransactionNotFoundError extends DomainError {
  readonly code = 'transaction_not_found';
  constructor(readonly transactionId: string) {
    super(`Transaction ${transactionId} does not exist.`);
  }
}

export class CurrencyMismatchError extends DomainError {
  readonly code = 'currency_mismatch';
  constructor(expected: string, actual: string, accountId: string) {
    super(`Account ${accountId} holds ${expected}, not ${actual}.`);
  }
}

export class AccountFrozenError extends DomainError {
  readonly code = 'account_frozen';
  constructor(readonly accountId: string) {
    super(`Account ${accountId} is frozen.`);
  }
}

export class InsufficientFundsError extends DomainError {
  readonly code = 'insufficient_funds';
  constructor(accountId: string, available: bigint, amount: bigint) {
    super(`Account ${accountId} has ${available} available; ${amount} is needed.`);
  }
}

export class AmountOverflowError extends DomainError {
  readonly code = 'amount_overflow';
  constructor(accountId: string, balance: bigint, change: bigint) {
    super(
      `Account ${accountId} would go from ${balance} to ${balance + change}, past the largest balance the ledger keeps.`,
    );
  }
}

export class SameAccountError extends DomainError {
  readonly code = 'same_account';
  constructor() {
    super('A transfer needs two different accounts.');
  }
}

export class TransactionNotRefundableError extends DomainError {
  readonly code = 'transaction_not_refundable';
  constructor(reason: string) {
    super(reason);
  }
}

export class RefundExceedsRemainingError extends DomainError {
  readonly code = 'refund_exceeds_remaining';
  constructor(remaining: bigint, amount: bigint) {
    super(`Only ${remaining} is left to refund; ${amount} was asked.`);
  }
}

export class ExternalRefTakenError extends DomainError {
  readonly code = 'external_ref_taken';
  constructor(externalRef: string) {
    super(`An account with externalRef "${externalRef}" already exists.`);
  }
}

export class InvalidTransitionError extends DomainError {
  readonly code = 'invalid_state_transition';
  constructor(from: string, to: string) {
    super(`A transaction cannot go from ${from} to ${to}.`);
  }
}
