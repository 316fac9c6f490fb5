import { z } from 'zod';
import { amount, currency, description, metadata } from '../../http/validation.js';

const accountId = z.string().min(1).max(64);
const common = { description: description.optional(), metadata: metadata.optional() };

/** POST /v1/transactions body, by type (API.md). Unknown fields are refused. */
export const createTransactionCommand = z
  .discriminatedUnion('type', [
    z
      .object({ type: z.literal('deposit'), destinationAccountId: accountId, amount, currency, ...common })
      .strict(),
    z
      .object({ type: z.literal('withdrawal'), sourceAccountId: accountId, amount, currency, ...common })
      .strict(),
    z
      .object({
        type: z.literal('transfer'),
        sourceAccountId: accountId,
        destinationAccountId: accountId,
        amount,
        currency,
        ...common,
      })
      .strict(),
    z.object({ type: z.literal('charge'), sourceAccountId: accountId, amount, currency, ...common }).strict(),
    z
      .object({
        type: z.literal('refund'),
        parentTransactionId: z.string().min(1).max(64),
        amount: amount.optional(),
        ...common,
      })
      .strict(),
  ])
  .superRefine((cmd, ctx) => {
    if (cmd.type === 'transfer' && cmd.sourceAccountId === cmd.destinationAccountId) {
      ctx.addIssue({
        code: 'custom',
        path: ['destinationAccountId'],
        message: 'must differ from sourceAccountId',
      });
    }
  });

export type CreateTransactionCommand = z.infer<typeof createTransactionCommand>;
