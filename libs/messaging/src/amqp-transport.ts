import { Catch, Logger, type RpcExceptionFilter } from '@nestjs/common';
import { Server, type CustomTransportStrategy } from '@nestjs/microservices';
import type { ChannelWrapper } from 'amqp-connection-manager';
import type { Channel, ConsumeMessage } from 'amqplib';
import { isObservable, lastValueFrom, throwError, type Observable } from 'rxjs';
import { parseJson } from '#domain';
import { Correlation, type Metrics } from '#observability';
import { AmqpContext } from './amqp-context.js';
import type { AmqpConnection } from './amqp-connection.js';
import { Headers } from './headers.js';
import type { MessagePublisher } from './publisher.js';
import { QueueInspector } from './queue-inspector.js';
import { PermanentMessageError, RetryPolicy, errorCode } from './retry-policy.js';
import { Exchanges, type QueueSpec, type Topology } from './topology.js';

export interface AmqpTransportOptions {
  connection: AmqpConnection;
  publisher: MessagePublisher;
  topology: Topology;
  metrics: Metrics;
  retryPolicy: RetryPolicy;
  /** The queues this process consumes (logical names, from the topology). */
  queues: QueueSpec[];
  prefetch: number;
}

/** Longest wait for the broker when a scrape asks for queue depths (a scrape must not hang). */
const QUEUE_SAMPLE_TIMEOUT_MS = 2_000;

type Outcome = 'ok' | 'duplicate' | 'ignored' | 'retried' | 'dead_lettered' | 'requeued';

/**
 * Keeps the original error on its way out of a handler. Nest's default RPC filter would replace
 * it with `{ status: 'error' }`, and the retry decision needs to know what failed.
 */
@Catch()
export class RpcErrorPassthroughFilter implements RpcExceptionFilter<unknown> {
  catch(exception: unknown): Observable<never> {
    return throwError(() => exception);
  }
}

/**
 * Serves ordinary `@EventPattern(type)` handlers from RabbitMQ quorum queues.
 *
 * A message is acked only after its handler (and so its database transaction) has finished.
 * A transient failure is republished to the next delay tier with the attempt count raised, then
 * acked; a permanent failure, or a transient one out of attempts, is republished to the queue's
 * DLQ with the error in its headers, then acked. If the process dies mid-handler the broker
 * redelivers, and the quorum queue's delivery limit dead-letters a message that keeps killing
 * its consumer while the rest of the queue flows.
 */
export class AmqpTransport extends Server implements CustomTransportStrategy {
  private readonly log = new Logger(AmqpTransport.name);
  private channel?: ChannelWrapper;
  /** Passive declares for the queue-depth gauges, on a channel of their own (a 404 closes a channel). */
  private depths?: QueueInspector;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly consumers = new Map<Channel, string[]>();
  private closing = false;

  constructor(private readonly options: AmqpTransportOptions) {
    super();
  }

  listen(callback: (...optionalParams: unknown[]) => unknown): void {
    const { connection, topology, queues, prefetch } = this.options;
    this.channel = connection.manager.createChannel({
      name: 'consumer',
      confirm: false,
      setup: async (channel: Channel) => {
        await topology.declare(channel);
        await channel.prefetch(prefetch);
        const tags: string[] = [];
        for (const spec of queues) {
          const { consumerTag } = await channel.consume(
            topology.queue(spec.name),
            (message) => {
              if (message) this.track(this.handle(channel, spec, message));
            },
            { noAck: false },
          );
          tags.push(consumerTag);
        }
        this.consumers.set(channel, tags);
        channel.once('close', () => this.consumers.delete(channel));
      },
    });
    // A setup cut short by a dropped connection is retried on reconnect; it must not crash the process.
    // The raw channel has no 'error' listener, on purpose: a channel the broker closes (an ack of an
    // unknown delivery tag, say) then takes the connection down with it, and the reconnect runs this
    // setup again. With a listener the connection would stay up and the wrapper, which reopens its
    // channel only on a reconnect, would be left without one: no more consuming.
    this.channel.on('error', (error: Error) => this.log.warn(`consumer channel: ${error.message}`));
    this.channel.on('connect', () => this.log.log(`consuming ${queues.map((q) => q.name).join(', ')}`));
    connection.addConsumer(() => this.consumers.size > 0);
    // Started, not connected: the consumers attach whenever the broker is (or becomes) reachable,
    // so the app's HTTP side (health, metrics) comes up and stays up without it. Readiness says
    // whether the broker is there.
    callback();
    // The queue-depth gauges, asked at each scrape on a channel of their own.
    this.depths = new QueueInspector(connection, 'queue-depth');
    this.options.metrics.sampleQueuesWith(() => this.sampleQueueDepths());
  }

  /** Depth and consumers of each consumed queue and its DLQ, labelled with logical names. */
  private async sampleQueueDepths(): Promise<void> {
    const { topology, queues, metrics } = this.options;
    const depths = this.depths;
    if (this.closing || !depths) return;
    const names = queues.flatMap((spec): [logical: string, physical: string][] => [
      [spec.name, topology.queue(spec.name)],
      [`${spec.name}.dlq`, topology.dlq(spec.name)],
    ]);
    // A queue not answered in time keeps its last figures until a scrape that gets one.
    const answers = await depths.checkAll(
      names.map(([, physical]) => physical),
      QUEUE_SAMPLE_TIMEOUT_MS,
    );
    for (const [logical, physical] of names) {
      const info = answers.get(physical);
      if (!info) continue;
      metrics.queueMessages.set({ queue: logical }, info.messageCount);
      metrics.queueConsumers.set({ queue: logical }, info.consumerCount);
    }
  }

  /** Stops taking messages, lets in-flight ones finish (ack or retry), then closes the channel. */
  async close(): Promise<void> {
    this.closing = true;
    for (const [channel, tags] of this.consumers) {
      for (const tag of tags) await channel.cancel(tag).catch(() => undefined);
    }
    await Promise.allSettled([...this.inFlight]);
    await this.depths?.close();
    await this.channel?.close().catch(() => undefined);
  }

  on(): never {
    throw new Error('AmqpTransport does not emit events');
  }

  unwrap<T>(): T {
    return this.channel as T;
  }

  private track(work: Promise<void>): void {
    this.inFlight.add(work);
    void work.finally(() => this.inFlight.delete(work));
  }

  private async handle(channel: Channel, spec: QueueSpec, message: ConsumeMessage): Promise<void> {
    if (this.closing) return; // not acked: the broker gives it to another consumer when we close
    const started = process.hrtime.bigint();
    const queue = spec.name;
    const ctx = new AmqpContext(message, queue);
    const correlationId = ctx.correlationId ?? ctx.messageId;
    let outcome: Outcome;
    await Correlation.run({ correlationId, messageId: ctx.messageId, messageType: ctx.type }, async () => {
      try {
        const handled = await this.invoke(ctx, spec);
        outcome = !handled ? 'ignored' : ctx.isDuplicate ? 'duplicate' : 'ok';
        this.settle(channel, message, 'ack');
        this.log.debug(`${ctx.type} handled (${outcome})`);
      } catch (error) {
        outcome = await this.fail(channel, ctx, error);
      }
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      this.options.metrics.messagesConsumed.inc({ queue, type: ctx.type, outcome });
      this.options.metrics.messageProcessingDuration.observe({ queue, outcome }, seconds);
    });
  }

  /** Runs the handler; false when the type has none and the queue ignores such types. */
  private async invoke(ctx: AmqpContext, spec: QueueSpec): Promise<boolean> {
    const handler = this.getHandlerByPattern(ctx.type);
    if (!handler) {
      if (spec.unknownTypes === 'ignore') return false;
      throw new PermanentMessageError(`no handler for message type "${ctx.type}"`, 'no_handler');
    }
    if (!ctx.message.properties.messageId) {
      throw new PermanentMessageError(
        'message has no message-id; it cannot be deduplicated',
        'missing_message_id',
      );
    }
    let data: unknown;
    try {
      // Losslessly: integers past 2^53 arrive as bigint, and are written back exactly.
      data = parseJson(ctx.message.content.toString('utf8'));
    } catch {
      throw new PermanentMessageError('message body is not valid JSON', 'malformed_body');
    }
    const result: unknown = await handler(data, ctx);
    if (isObservable(result)) await lastValueFrom(result, { defaultValue: undefined });
    return true;
  }

  private async fail(channel: Channel, ctx: AmqpContext, error: unknown): Promise<Outcome> {
    const { publisher, topology, retryPolicy } = this.options;
    const decision = retryPolicy.decide(error, ctx.attempt);
    const reason = error instanceof Error ? error.message : String(error);
    const props = ctx.message.properties;
    const headers: Record<string, unknown> = { ...props.headers };
    // Broker bookkeeping of the old copy must not leak into the new one.
    delete headers[Headers.deliveryCount];
    delete headers['x-death'];
    delete headers['x-first-death-exchange'];
    delete headers['x-first-death-queue'];
    delete headers['x-first-death-reason'];
    // Where the message was first published: a retried copy comes back through the default
    // exchange, so the first delivery's exchange and routing key travel in headers.
    headers[Headers.originalExchange] ??= ctx.message.fields.exchange;
    headers[Headers.originalRoutingKey] ??= ctx.message.fields.routingKey;
    const options = {
      messageId: props.messageId,
      correlationId: props.correlationId,
      type: props.type,
      timestamp: props.timestamp,
      contentType: props.contentType,
    };
    try {
      if (decision.action === 'retry') {
        await publisher.publishRaw(
          topology.exchange(Exchanges.retry),
          topology.retryQueue(ctx.queue, decision.delayMs),
          ctx.message.content,
          {
            ...options,
            headers: {
              ...headers,
              [Headers.attempt]: ctx.attempt + 1,
              [Headers.lastError]: truncate(reason),
            },
          },
        );
        this.settle(channel, ctx.message, 'ack');
        this.log.warn(
          `${ctx.type} failed (attempt ${ctx.attempt}), retrying in ${decision.delayMs} ms: ${reason}`,
        );
        return 'retried';
      }
      await publisher.publishRaw(
        topology.exchange(Exchanges.dlx),
        topology.dlq(ctx.queue),
        ctx.message.content,
        {
          ...options,
          headers: {
            ...headers,
            [Headers.attempt]: ctx.attempt,
            [Headers.error]: truncate(reason),
            [Headers.errorName]: error instanceof Error ? error.name : typeof error,
            [Headers.errorCode]: errorCode(error) ?? decision.reason,
            [Headers.errorPermanent]: decision.reason === 'permanent',
            [Headers.failedQueue]: ctx.queue,
            [Headers.failedAt]: new Date().toISOString(),
          },
        },
      );
      this.settle(channel, ctx.message, 'ack');
      this.log.error(
        `${ctx.type} dead-lettered (${decision.reason}) after attempt ${ctx.attempt}: ${reason}`,
      );
      return 'dead_lettered';
    } catch (publishError) {
      // Could not hand the message on: give it back. The requeue counts towards the delivery limit.
      this.settle(channel, ctx.message, 'requeue');
      this.log.error(`${ctx.type} could not be rerouted, requeued: ${(publishError as Error).message}`);
      return 'requeued';
    }
  }

  private settle(channel: Channel, message: ConsumeMessage, how: 'ack' | 'requeue'): void {
    // A closed channel cannot ack; the broker has already put the message back.
    try {
      if (how === 'ack') channel.ack(message);
      else channel.reject(message, true);
    } catch (error) {
      this.log.warn(
        `could not ${how} message ${String(message.properties.messageId)}: ${(error as Error).message}`,
      );
    }
  }
}

function truncate(text: string, max = 1000): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}
