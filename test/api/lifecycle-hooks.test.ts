import assert from 'node:assert/strict';
import { afterAll, beforeAll, describe, it, jest } from '@jest/globals';
import { AmqpTransport } from '#messaging';
import { AuthService } from '../../apps/admin/src/auth/auth.service.js';
import { DeadLetterCollector } from '../../apps/admin/src/dead-letters/dead-letter-collector.js';
import { MetricSampler } from '../../apps/admin/src/metrics/metric-sampler.js';
import { DeliveryDispatcher } from '../../apps/notification/src/webhooks/delivery-dispatcher.js';
import { Periodic } from '../../apps/transaction-worker/src/scheduling/periodic.js';
import { InProcessStack } from '../support/in-process.js';

// The apps that consume from RabbitMQ are hybrid Nest apps (HTTP + the AMQP transport). Their
// providers' start-up hooks must run once: when the deferred microservice called them as well,
// every loop, timer and consumer a hook starts ran twice — two metric samplers, two dead-letter
// consumers on each DLQ, two webhook dispatcher loops — and shutdown stopped only one of each.
// And they run before the app's consumers start taking messages.

describe('lifecycle hooks of the consuming apps run once, before the consumers start', () => {
  const hooked = [Periodic, DeliveryDispatcher, DeadLetterCollector, MetricSampler, AuthService] as const;
  const spies = hooked.map((type) => ({
    name: type.name,
    spy: jest.spyOn(type.prototype as { onApplicationBootstrap(): unknown }, 'onApplicationBootstrap'),
  }));
  /** How many times each hook had run when each consumer (AmqpTransport) started, in order. */
  const atListen: Record<string, number>[] = [];
  const listen = AmqpTransport.prototype.listen;
  const listenSpy = jest.spyOn(AmqpTransport.prototype, 'listen').mockImplementation(function (
    this: AmqpTransport,
    ...args: Parameters<AmqpTransport['listen']>
  ) {
    atListen.push(Object.fromEntries(spies.map(({ name, spy }) => [name, spy.mock.calls.length])));
    return listen.apply(this, args);
  });
  let stack: InProcessStack;

  beforeAll(async () => {
    stack = await InProcessStack.start('hooks', ['transaction-worker', 'notification', 'admin']);
  });
  afterAll(async () => {
    for (const { spy } of spies) spy.mockRestore();
    listenSpy.mockRestore();
    await stack?.stop();
  });

  it('each provider instance was started once', () => {
    for (const { name, spy } of spies) {
      const instances = spy.mock.contexts;
      assert.ok(instances.length > 0, `${name}: started`);
      assert.equal(new Set(instances).size, instances.length, `${name}: started ${instances.length} times`);
    }
  });

  it("each app's hooks had run when its consumer started (worker, notification, admin, in that order)", () => {
    assert.equal(atListen.length, 3);
    const [worker, notification, admin] = atListen;
    assert.ok(worker!.Periodic! > 0, JSON.stringify(atListen));
    assert.ok(notification!.DeliveryDispatcher! > 0, JSON.stringify(atListen));
    for (const name of ['DeadLetterCollector', 'MetricSampler', 'AuthService'])
      assert.ok(admin![name]! > 0, `${name}: ${JSON.stringify(atListen)}`);
  });
});
