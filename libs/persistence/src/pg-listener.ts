import { Logger } from '@nestjs/common';
import pg from 'pg';

/**
 * A dedicated connection that LISTENs on one channel and reconnects when it drops. NOTIFY is a
 * wake-up hint only: whoever listens must still poll, as notifications sent while disconnected
 * are lost. `onNotify` is also called after every (re)connect, for that reason.
 */
export class PgListener {
  private readonly log = new Logger(PgListener.name);
  private running = false;
  private client?: pg.Client;
  private loop?: Promise<void>;

  constructor(
    private readonly url: string,
    private readonly channel: string,
    private readonly onNotify: (payload: string | undefined) => void,
  ) {
    if (!/^[a-z_][a-z0-9_]*$/.test(channel)) throw new Error(`bad channel name ${channel}`);
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.client?.end().catch(() => undefined);
    await this.loop;
  }

  private async run(): Promise<void> {
    while (this.running) {
      const client = new pg.Client({
        connectionString: this.url,
        application_name: `tally-listen-${this.channel}`,
      });
      const closed = new Promise<void>((resolve) => {
        client.on('error', () => resolve());
        client.on('end', () => resolve());
      });
      try {
        await client.connect();
        client.on('notification', (n) => this.onNotify(n.payload));
        await client.query(`LISTEN ${this.channel}`);
        this.client = client;
        this.onNotify(undefined);
        if (this.running) await closed;
      } catch (error) {
        if (this.running) this.log.warn(`LISTEN ${this.channel} failed: ${(error as Error).message}`);
      }
      this.client = undefined;
      await client.end().catch(() => undefined);
      if (this.running) await new Promise((r) => setTimeout(r, 1_000));
    }
  }
}
