import { Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';

/**
 * A job the worker runs every `intervalMs` from start-up to shutdown: one run at a time (the next
 * is scheduled when one ends), a failed run logged and tried again at the next tick, and shutdown
 * waiting for the run in progress.
 */
export abstract class Periodic implements OnApplicationBootstrap, OnApplicationShutdown {
  protected readonly log = new Logger(this.constructor.name);
  protected stopped = false;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  protected abstract readonly intervalMs: number;

  /** One run: answers how many items it handled. */
  abstract sweep(): Promise<number>;

  onApplicationBootstrap(): void {
    this.schedule();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.sweep()
        .then(() => undefined)
        .catch((error: Error) => this.log.warn(`${this.constructor.name} failed: ${error.message}`))
        .finally(() => this.schedule());
    }, this.intervalMs);
  }
}
