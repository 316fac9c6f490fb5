import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { DataSource } from 'typeorm';
import { QueueDepths } from './queue-depths.js';
import { SeriesRepository } from './series.repository.js';

export interface SamplerOptions {
  /** Seconds between two samples. */
  intervalSeconds: number;
  /** Days a sample is kept. */
  retentionDays: number;
}

/**
 * Samples what has no history of its own every `intervalSeconds` into `metric_samples`: each
 * queue's depth (`queue:<name>`, from the broker) and the outbox backlog (`outbox.backlog`); then
 * deletes the samples older than the retention. One run at a time; a failed run is logged and the
 * next tick tries again; with the broker away or slow, the outbox is still sampled.
 */
@Injectable()
export class MetricSampler implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly log = new Logger(MetricSampler.name);
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(SeriesRepository) private readonly series: SeriesRepository,
    @Inject(QueueDepths) private readonly queueDepths: QueueDepths,
    @Inject('SAMPLER_OPTIONS') private readonly options: SamplerOptions,
  ) {}

  onApplicationBootstrap(): void {
    this.schedule(0);
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  /** One sample of every series, then the pruning: answers how many samples it wrote. */
  async sample(): Promise<number> {
    const m = this.dataSource.manager;
    const values: { series: string; value: number }[] = [
      { series: 'outbox.backlog', value: await this.series.outboxBacklog(m) },
    ];
    // Within QueueDepths' wait, whatever the broker does; a queue it did not answer is not sampled.
    for (const q of await this.queueDepths.all()) {
      if (q.messages !== null) values.push({ series: `queue:${q.queue}`, value: q.messages });
    }
    const written = await this.series.writeSamples(m, this.options.intervalSeconds, values);
    await this.series.pruneSamples(m, this.options.retentionDays);
    return written;
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.sample()
        .then(() => undefined)
        .catch((error: Error) => this.log.warn(`metrics sample failed: ${error.message}`))
        .finally(() => this.schedule(this.options.intervalSeconds * 1000));
    }, delayMs);
    this.timer.unref();
  }
}
