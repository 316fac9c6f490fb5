import net from 'node:net';

/**
 * A TCP pass-through to a real service that a test can cut, stall and restore, to show what the
 * apps do when the network to their database or broker goes away or goes quiet. Nothing is mocked
 * behind it.
 */
export class TcpProxy {
  private server?: net.Server;
  private readonly sockets = new Set<net.Socket>();
  private open = true;
  /** While stalled, bytes are held (both ways) instead of forwarded: a network that went silent. */
  private stalled = false;
  private readonly held: { to: net.Socket; chunk: Buffer }[] = [];
  port = 0;

  constructor(
    private readonly targetPort: number,
    private readonly targetHost = '127.0.0.1',
  ) {}

  async start(): Promise<number> {
    this.server = net.createServer((client) => {
      if (!this.open) return client.destroy();
      const upstream = net.connect(this.targetPort, this.targetHost);
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => s.destroy());
      }
      this.forward(client, upstream);
      this.forward(upstream, client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.port = (this.server!.address() as net.AddressInfo).port;
    return this.port;
  }

  /** `url` (of the service behind this proxy) with this started proxy's port: the way through it. */
  via(url: string | URL): string {
    const through = new URL(url);
    through.port = String(this.port);
    return through.toString();
  }

  private forward(from: net.Socket, to: net.Socket): void {
    from.on('data', (chunk: Buffer) => {
      if (this.stalled) this.held.push({ to, chunk });
      else if (!to.destroyed) to.write(chunk);
    });
  }

  /** Drops every connection and refuses new ones. */
  cut(): void {
    this.open = false;
    this.stalled = false;
    this.held.length = 0;
    for (const s of this.sockets) s.destroy();
  }

  /**
   * Keeps every connection open (and accepts new ones) but forwards nothing either way: to both
   * ends the other has gone silent, as behind a broken link that still looks up.
   */
  stall(): void {
    this.stalled = true;
  }

  /** Accepts connections and forwards again; bytes held during a stall go through, in order. */
  restore(): void {
    this.open = true;
    this.stalled = false;
    for (const { to, chunk } of this.held.splice(0)) if (!to.destroyed) to.write(chunk);
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }
}
