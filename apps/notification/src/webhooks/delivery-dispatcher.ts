import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { DataSource } from 'typeorm';
import { nextRetryDelayMs, parseRetryAfter, signatureHeader } from '#domain';
import { Exchanges, Headers, MessagePublisher, Queues, Topology } from '#messaging';
import { Metrics } from '#observability';
import { WebhookRepository, type DeliveryRecord, type WebhookEndpointRecord } from '#persistence';
import { Mailer, templates } from '../email/mailer.js';
import { sendWebhook } from './webhook-sender.js';

export interface DispatchOptions {
  retryScheduleMs: number[];
  timeoutMs: number;
  disableAfterMs: number;
  intervalMs: number;
  concurrency: number;
  allowedHosts: string[];
  /** How long a delivery about an account waits for the account's earlier events to arrive. */
  orderWaitMs: number;
}

/**
 * Sends due deliveries: leases them (so several notification instances share the work and a
 * crashed one's deliveries come back), signs and POSTs each (Standard Webhooks), logs the attempt
 * and schedules the next one with backoff and jitter, honouring Retry-After. A delivery whose
 * schedule is exhausted fails and is copied to the notification queue's DLQ; a 410 disables its
 * endpoint at once, and so does failing without a success for `disableAfterMs` (the tenant is
 * emailed). Deliveries about one account go in the account's order (see WebhookRepository.leaseDue).
 */
@Injectable()
export class DeliveryDispatcher implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly log = new Logger(DeliveryDispatcher.name);
  private running = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private woken = false;
  private inFlight = 0;
  private readonly settled = new Set<Promise<void>>();

  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(WebhookRepository) private readonly webhooks: WebhookRepository,
    @Inject(MessagePublisher) private readonly publisher: MessagePublisher,
    @Inject(Topology) private readonly topology: Topology,
    @Inject(Mailer) private readonly mailer: Mailer,
    @Inject(Metrics) private readonly metrics: Metrics,
    @Inject('DISPATCH_OPTIONS') private readonly options: DispatchOptions,
  ) {}

  onApplicationBootstrap(): void {
    this.running = true;
    this.loop = this.run();
  }

  async onApplicationShutdown(): Promise<void> {
    this.running = false;
    this.poke();
    await this.loop;
    await Promise.allSettled([...this.settled]);
    this.mailer.close();
  }

  poke(): void {
    if (this.wake) this.wake();
    else this.woken = true;
  }

  private async run(): Promise<void> {
    let lastMail = 0;
    while (this.running) {
      try {
        const free = this.options.concurrency - this.inFlight;
        if (free > 0) {
          const leased = await this.webhooks.leaseDue(
            this.dataSource,
            free,
            this.options.timeoutMs + 30_000,
            this.options.orderWaitMs,
          );
          for (const { delivery, endpoint } of leased) this.track(this.attempt(delivery, endpoint));
        }
        if (Date.now() - lastMail > 5_000) {
          lastMail = Date.now();
          await this.mailer.sendPending();
        }
      } catch (error) {
        this.log.warn(`dispatch failed: ${(error as Error).message}`);
      }
      await this.sleep(this.options.intervalMs);
    }
  }

  private track(work: Promise<void>): void {
    this.inFlight++;
    const settled = work
      .catch((error: Error) => this.log.error(`delivery failed unexpectedly: ${error.message}`))
      .finally(() => {
        this.inFlight--;
        this.settled.delete(settled);
        this.poke(); // a finished delivery may unblock the next one for its account
      });
    this.settled.add(settled);
  }

  private async attempt(delivery: DeliveryRecord, endpoint: WebhookEndpointRecord): Promise<void> {
    const timestamp = Math.floor(Date.now() / 1000);
    const secrets = [endpoint.secret, endpoint.previousSecret].filter((s): s is string => !!s);
    const result = await sendWebhook(
      endpoint.url,
      {
        'webhook-id': delivery.eventId,
        'webhook-timestamp': String(timestamp),
        'webhook-signature': signatureHeader(secrets, delivery.eventId, timestamp, delivery.payload),
      },
      delivery.payload,
      { timeoutMs: this.options.timeoutMs, allowedHosts: this.options.allowedHosts },
    );
    this.metrics.webhookLatency.observe(result.latencyMs / 1000);
    const attempt = delivery.attempts + 1;
    const ok = result.statusCode !== null && result.statusCode >= 200 && result.statusCode < 300;
    const log = {
      attempt,
      statusCode: result.statusCode,
      latencyMs: result.latencyMs,
      responseSnippet: result.snippet,
      error: ok ? null : (result.error ?? `HTTP ${result.statusCode}`),
    };
    if (ok) {
      this.metrics.webhookAttempts.inc({ outcome: 'succeeded' });
      await this.webhooks.recordAttempt(this.dataSource, delivery, log, { status: 'succeeded' });
      await this.webhooks.noteHealth(this.dataSource, endpoint.id, true);
      return;
    }
    if (result.statusCode === 410) {
      this.metrics.webhookAttempts.inc({ outcome: 'gone' });
      await this.webhooks.recordAttempt(this.dataSource, delivery, log, { status: 'failed' });
      await this.deadLetter(delivery, 'the receiver answered 410 Gone');
      await this.disable(endpoint, 'the receiver answered 410 Gone');
      return;
    }
    const delay = nextRetryDelayMs(attempt, this.options.retryScheduleMs, parseRetryAfter(result.retryAfter));
    this.metrics.webhookAttempts.inc({ outcome: delay === null ? 'failed' : 'retrying' });
    if (delay === null) {
      await this.webhooks.recordAttempt(this.dataSource, delivery, log, { status: 'failed' });
      await this.deadLetter(delivery, `${attempt} attempts failed; last: ${log.error}`);
    } else {
      await this.webhooks.recordAttempt(this.dataSource, delivery, log, {
        status: 'pending',
        retryAt: new Date(Date.now() + delay),
      });
    }
    const failingSince = await this.webhooks.noteHealth(this.dataSource, endpoint.id, false);
    if (failingSince && Date.now() - failingSince.getTime() >= this.options.disableAfterMs) {
      await this.disable(endpoint, `failing without a success since ${failingSince.toISOString()}`);
    }
  }

  /**
   * An exhausted delivery, with its event, in the notification queue's DLQ (for operators). It
   * names where it came from (the event's exchange and type), its tenant and its delivery: the
   * admin app stores it as a dead letter, and replaying it sends this delivery again (a copy
   * republished to the DLX would only come straight back).
   */
  private async deadLetter(delivery: DeliveryRecord, reason: string): Promise<void> {
    const dlq = this.topology.dlq(Queues.notification.name);
    await this.publisher.publish({
      exchange: Exchanges.dlx,
      routingKey: dlq,
      messageId: delivery.id,
      type: delivery.eventType,
      body: delivery.payload,
      correlationId: delivery.correlationId,
      headers: {
        [Headers.error]: reason,
        [Headers.errorCode]: 'webhook_delivery_failed',
        [Headers.failedQueue]: Queues.notification.name,
        [Headers.failedAt]: new Date().toISOString(),
        [Headers.originalExchange]: this.topology.exchange(Exchanges.events),
        [Headers.originalRoutingKey]: delivery.eventType,
        [Headers.webhookEndpointId]: delivery.endpointId,
        [Headers.webhookDeliveryId]: delivery.id,
        [Headers.tenantId]: delivery.tenantId,
      },
    });
  }

  private async disable(endpoint: WebhookEndpointRecord, reason: string): Promise<void> {
    if (!(await this.webhooks.disable(this.dataSource, endpoint.id, reason))) return;
    this.log.warn(`webhook endpoint ${endpoint.id} disabled: ${reason}`);
    const queued = await this.mailer.enqueue(
      this.dataSource.manager,
      endpoint.tenantId,
      `endpoint_disabled:${endpoint.id}:${Date.now()}`,
      'webhook_endpoint.disabled',
      templates.endpointDisabled({ endpointId: endpoint.id, url: endpoint.url, reason }),
    );
    if (queued) await this.mailer.sendPending();
  }

  private sleep(ms: number): Promise<void> {
    if (this.woken) {
      this.woken = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = () => {
        this.wake = undefined;
        this.woken = false;
        done();
      };
    });
  }
}
