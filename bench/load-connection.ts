import net from 'node:net';

/** A response as the load generator sees it. */
export interface LoadAnswer {
  status: number;
  body: Buffer;
}

/**
 * One keep-alive HTTP/1.1 connection of the load generator: one request at a time, answering the
 * status code (or, with `exchange`, the status and body) once the whole response has arrived. The generator runs on the same two cores as
 * everything it measures, and Node's http client spent ~7 % of the machine building request
 * objects; this writes the request in one piece and reads only the status line and
 * Content-Length (the gateway always sends one).
 */
export class LoadConnection {
  private buffer: Buffer = Buffer.alloc(0);
  private waiting?: { resolve: (answer: LoadAnswer) => void; reject: (error: Error) => void };

  private constructor(private readonly socket: net.Socket) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.received(chunk));
    socket.on('error', (error) => this.fail(error));
    socket.on('close', () => this.fail(new Error('connection closed')));
  }

  static open(host: string, port: number): Promise<LoadConnection> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host, port }, () => resolve(new LoadConnection(socket)));
      socket.once('error', reject);
    });
  }

  /** Sends `head` (request line and headers, without Content-Length) and `body`. */
  async request(head: string, body: string): Promise<number> {
    return (await this.exchange(head, body)).status;
  }

  /** As `request`, answering the body too. */
  exchange(head: string, body: string): Promise<LoadAnswer> {
    if (this.waiting) return Promise.reject(new Error('a request is already in flight'));
    return new Promise((resolve, reject) => {
      this.waiting = { resolve, reject };
      this.socket.write(`${head}content-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
    });
  }

  close(): void {
    this.socket.destroy();
  }

  private received(chunk: Buffer): void {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    const end = this.buffer.indexOf('\r\n\r\n');
    if (end < 0) return;
    const head = this.buffer.subarray(0, end).toString('latin1');
    const length = /\r\ncontent-length:\s*(\d+)/i.exec(head);
    if (!length) return this.fail(new Error(`response without Content-Length: ${head.split('\r\n')[0]}`));
    const total = end + 4 + Number(length[1]);
    if (this.buffer.length < total) return;
    if (this.buffer.length > total) return this.fail(new Error('bytes after the response'));
    const answer = { status: Number(head.slice(9, 12)), body: this.buffer.subarray(end + 4, total) };
    this.buffer = Buffer.alloc(0);
    const waiting = this.waiting;
    this.waiting = undefined;
    waiting?.resolve(answer);
  }

  private fail(error: Error): void {
    const waiting = this.waiting;
    this.waiting = undefined;
    waiting?.reject(error);
  }
}
