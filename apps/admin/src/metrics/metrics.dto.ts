import { ApiProperty } from '@nestjs/swagger';
import { OptionalOneOf, OptionalText } from '../http/fields.js';
import { WINDOWS, type MetricsWindow } from './metrics-overview.js';

const NUMBER_OR_NULL = { type: 'number', nullable: true } as const;
const RATE = {
  type: 'number',
  nullable: true,
  minimum: 0,
  maximum: 1,
  description: 'null: nothing finished.',
} as const;

export class MetricsQuery {
  @OptionalOneOf(Object.keys(WINDOWS), 'How far back (default 1h).')
  window?: MetricsWindow;

  @OptionalText(64)
  tenantId?: string;
}

export class LatencyView {
  @ApiProperty(NUMBER_OR_NULL)
  p50!: number | null;

  @ApiProperty(NUMBER_OR_NULL)
  p95!: number | null;

  @ApiProperty(NUMBER_OR_NULL)
  p99!: number | null;
}

export class TransactionMetricsView {
  @ApiProperty({ example: 'deposit' })
  type!: string;

  @ApiProperty({ type: 'integer' })
  total!: number;

  @ApiProperty({ type: 'integer' })
  succeeded!: number;

  @ApiProperty({ type: 'integer' })
  failed!: number;

  @ApiProperty({ type: 'integer', description: 'Pending or processing.' })
  open!: number;

  @ApiProperty({ type: 'number' })
  perSecond!: number;

  @ApiProperty(RATE)
  successRate!: number | null;

  @ApiProperty({ type: LatencyView, description: 'Accepted to final, in milliseconds.' })
  latencyMs!: LatencyView;
}

export class UsageMetricsView {
  @ApiProperty({ example: 'api_call' })
  type!: string;

  @ApiProperty({ type: 'integer' })
  processed!: number;

  @ApiProperty({ type: 'integer' })
  charged!: number;

  @ApiProperty({ type: 'integer' })
  unbilled!: number;

  @ApiProperty({ type: 'string', pattern: '^\\d+$', description: 'Charged, in minor units.' })
  amount!: string;

  @ApiProperty({ type: 'number' })
  perSecond!: number;

  @ApiProperty({ type: LatencyView, description: 'Received to processed, in milliseconds.' })
  latencyMs!: LatencyView;
}

export class PublishLagView {
  @ApiProperty(NUMBER_OR_NULL)
  p50!: number | null;

  @ApiProperty(NUMBER_OR_NULL)
  p99!: number | null;
}

export class OutboxMetricsView {
  @ApiProperty({ type: 'integer', description: 'Messages not yet published.' })
  backlog!: number;

  @ApiProperty(NUMBER_OR_NULL)
  oldestUnpublishedSeconds!: number | null;

  @ApiProperty({ type: PublishLagView, description: 'Written to published, in milliseconds.' })
  publishLagMs!: PublishLagView;
}

export class WebhookMetricsView {
  @ApiProperty({ type: 'integer' })
  deliveries!: number;

  @ApiProperty({ type: 'integer' })
  succeeded!: number;

  @ApiProperty({ type: 'integer' })
  failed!: number;

  @ApiProperty({ type: 'integer' })
  pending!: number;

  @ApiProperty(RATE)
  successRate!: number | null;
}

export class DeadLetterMetricsView {
  @ApiProperty({ type: 'integer' })
  pending!: number;
}

export class QueueDepthView {
  @ApiProperty({ example: 'transaction-worker.commands' })
  queue!: string;

  @ApiProperty({ type: 'integer', nullable: true, description: 'null: the broker could not be asked.' })
  messages!: number | null;

  @ApiProperty({ type: 'integer', nullable: true })
  consumers!: number | null;
}

export class ServiceView {
  @ApiProperty({ example: 'transaction-worker' })
  name!: string;

  @ApiProperty()
  up!: boolean;
}

export class MetricsView {
  @ApiProperty({ enum: Object.keys(WINDOWS) })
  window!: string;

  @ApiProperty({ type: 'string', format: 'date-time' })
  since!: string;

  @ApiProperty({ type: [TransactionMetricsView] })
  transactions!: TransactionMetricsView[];

  @ApiProperty({ type: [UsageMetricsView] })
  usage!: UsageMetricsView[];

  @ApiProperty({ type: OutboxMetricsView })
  outbox!: OutboxMetricsView;

  @ApiProperty({ type: WebhookMetricsView })
  webhooks!: WebhookMetricsView;

  @ApiProperty({ type: DeadLetterMetricsView })
  deadLetters!: DeadLetterMetricsView;

  @ApiProperty({ type: [QueueDepthView], description: 'Every queue and its DLQ.' })
  queues!: QueueDepthView[];

  @ApiProperty({ type: [ServiceView] })
  services!: ServiceView[];
}
