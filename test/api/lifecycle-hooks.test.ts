import assert from 'node:assert/strict';
import { afterAll, beforeAll, describe, it, jest } from '@jest/globals';
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

describe('lifecycle hooks of the consuming apps run once', () => {
  const hooked = [Periodic, DeliveryDispatcher, DeadLetterCollector, MetricSampler, AuthService] as const;
  const spies = hooked.map((type) => ({
    name: type.name,
    spy: jest.spyOn(type.prototype as { onApplicationBootstrap(): unknown }, 'onApplicationBootstrap'),
  }));
  let stack: InProcessStack;

  beforeAll(async () => {
    stack = await InProcessStack.start('hooks', ['transaction-worker', 'notification', 'admin']);
  });
  afterAll(async () => {
    for (const { spy } of spies) spy.mockRestore();
    await stack?.stop();
  });

  it('each provider instance was started once', () => {
    for (const { name, spy } of spies) {
      const instances = spy.mock.contexts;
      assert.ok(instances.length > 0, `${name}: started`);
      assert.equal(new Set(instances).size, instances.length, `${name}: started ${instances.length} times`);
    }
  });
});
