import { ApiError } from '#http';
import type { Operator } from './auth.service.js';

/**
 * The four-eyes rule of every approval (adjustments, payout settlements): the operator who asked
 * for a change cannot be the one who approves it.
 */
export function requireSecondOperator(requestedBy: string, approver: Operator, what: string): void {
  if (requestedBy === approver.id)
    throw new ApiError(403, 'second_approval_required', `A second operator must approve this ${what}.`);
}
