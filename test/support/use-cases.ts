import { Test, type TestingModule } from '@nestjs/testing';
import type { ConsumeMessage } from 'amqplib';
import { DataSource, type EntityManager } from 'typeorm';
import { newId } from '#domain';
import { AmqpContext } from '#messaging';
import { AccountRepository } from '#persistence';
import { loadGatewayConfig } from '../../apps/gateway/src/config.js';
import { GatewayModule } from '../../apps/gateway/src/gateway.module.js';
import { HoldsService } from '../../apps/gateway/src/holds/holds.service.js';
import { IdempotencyService } from '../../apps/gateway/src/idempotency/idempotency.service.js';
import type { CreateTransactionCommand } from '../../apps/gateway/src/transactions/create-transaction/create-transaction.command.js';
import { CreateTransaction } from '../../apps/gateway/src/transactions/create-transaction/create-transaction.use-case.js';
import { loadWorkerConfig } from '../../apps/transaction-worker/src/config.js';
import { TransactionBatcher } from '../../apps/transaction-worker/src/apply-transaction/transaction-batcher.js';
import { HoldExpirySweep } from '../../apps/transaction-worker/src/holds/hold-expiry.sweep.js';
import { WorkerModule } from '../../apps/transaction-worker/src/worker.module.js';
import { loadNotificationConfig } from '../../apps/notification/src/config.js';
import { NotificationModule } from '../../apps/notification/src/notification.module.js';
import { uniquePrefix } from './env.js';
import { newTenant } from './in-process.js';
import { appTestEnv } from './stack.js';

/**
 * The gateway's, the worker's and the notification app's Nest modules, compiled but not started — no HTTP server, no
 * consumer, no outbox relay, no timers — so their use cases are called directly, as providers, on
 * the run's real database (as the apps' role). What the broker would carry between them, the test
 * carries: a transaction the gateway accepted is handed to the worker as the message it would get.
 */
export class UseCases {
  private constructor(
    readonly gateway: TestingModule,
    readonly worker: TestingModule,
    readonly notification: TestingModule,
  ) {}

  static async open(env: Record<string, string> = {}): Promise<UseCases> {
    const settings = {
      ...process.env,
      ...appTestEnv(uniquePrefix('service')),
      LOG_LEVEL: process.env.TEST_APP_OUTPUT ? 'info' : 'silent',
      ...env,
    };
    const compile = (module: Parameters<typeof Test.createTestingModule>[0]['imports']) =>
      Test.createTestingModule({ imports: module }).compile();
    const gateway = await compile([GatewayModule.register(loadGatewayConfig(settings))]);
    const worker = await compile([WorkerModule.register(loadWorkerConfig(settings))]);
    const notification = await compile([NotificationModule.register(loadNotificationConfig(settings))]);
    return new UseCases(gateway, worker, notification);
  }

  get db(): DataSource {
    return this.worker.get(DataSource);
  }

  /** A tenant of its own and customer accounts in it, for one test's data. */
  async tenantWithAccounts(
    count: number,
    currency = 'USD',
  ): Promise<{ tenantId: string; keyId: string; accounts: string[] }> {
    const { tenantId, keyId } = await newTenant('service test');
    const repository = this.gateway.get(AccountRepository);
    const accounts: string[] = [];
    for (let i = 0; i < count; i++) {
      const account = await this.db.transaction((m) =>
        repository.create(m, {
          tenantId,
          currency,
          externalRef: null,
          metadata: {},
          lowBalanceThreshold: null,
        }),
      );
      accounts.push(account.id);
    }
    return { tenantId, keyId, accounts };
  }

  /** The gateway accepting a transaction (CreateTransaction): the pending intent and its command. */
  accept(tenantId: string, command: CreateTransactionCommand): Promise<{ id: string }> {
    return this.db.transaction((m: EntityManager) =>
      this.gateway.get(CreateTransaction).execute(m, tenantId, command, null),
    );
  }

  /** The worker receiving a transaction's command (TransactionBatcher: inbox, then ApplyTransactions). */
  deliver(transactionId: string, messageId = newId('msg')): Promise<void> {
    return this.worker
      .get(TransactionBatcher)
      .submit(messageContext('transaction.requested', 'transaction-worker', messageId), transactionId);
  }

  /** Accepted, then delivered: the transaction's final row. */
  async transact(
    tenantId: string,
    command: CreateTransactionCommand,
  ): Promise<{ id: string; status: string; failure_code: string | null }> {
    const { id } = await this.accept(tenantId, command);
    await this.deliver(id);
    const [row] = await this.db.query(`SELECT id, status, failure_code FROM transactions WHERE id = $1`, [
      id,
    ]);
    return row;
  }

  get holds(): HoldsService {
    return this.gateway.get(HoldsService);
  }

  get idempotency(): IdempotencyService {
    return this.gateway.get(IdempotencyService);
  }

  get expirySweep(): HoldExpirySweep {
    return this.worker.get(HoldExpirySweep);
  }

  async close(): Promise<void> {
    await this.gateway.close();
    await this.worker.close();
    await this.notification.close();
  }
}

/** The context the consumer gives a message `type` delivered under `messageId`. */
export function messageContext(type: string, queue: string, messageId = newId('msg')): AmqpContext {
  const message = {
    content: Buffer.alloc(0),
    fields: { routingKey: type, deliveryTag: 1, redelivered: false },
    properties: { messageId, headers: {}, type },
  } as unknown as ConsumeMessage;
  return new AmqpContext(message, queue);
}
