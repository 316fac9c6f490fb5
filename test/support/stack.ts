import request, { type Test } from 'supertest';
import { AppProcess, distPath, freePort } from './app-process.js';
import { deletePrefixedBrokerObjects } from './broker-cleanup.js';
import { checkAgainstDocument } from './contract.js';
import { testSettings, uniquePrefix } from './env.js';

export type AppName = 'gateway' | 'transaction-worker' | 'notification' | 'admin';

const PORT_VARIABLE: Record<AppName, string> = {
  gateway: 'GATEWAY_PORT',
  'transaction-worker': 'WORKER_PORT',
  notification: 'NOTIFICATION_PORT',
  admin: 'ADMIN_PORT',
};

/** What the tests change in an app's configuration, started in a process or in-process. */
export function appTestEnv(prefix: string): Record<string, string> {
  return {
    DATABASE_URL: testSettings().databaseUrl,
    AMQP_PREFIX: prefix,
    RETRY_DELAYS_MS: '200,1000',
    OUTBOX_POLL_INTERVAL_MS: '200',
    LOG_LEVEL: 'warn',
    // Load tests send thousands of requests on one key; the rate-limit tests set their own.
    RATE_LIMIT_WRITES_BURST: '1000000',
    RATE_LIMIT_READS_BURST: '1000000',
    RATE_LIMIT_EVENTS_BURST: '1000000',
  };
}

/** Real apps in child processes, sharing this run's database and one broker prefix. */
export class Stack {
  readonly apps = new Map<AppName, { process: AppProcess; url: string }>();
  /** Further instances of an app (a second worker), stopped with the stack. */
  readonly extras: AppProcess[] = [];

  constructor(
    readonly prefix: string,
    private readonly env: Record<string, string>,
  ) {}

  static async start(tag: string, names: AppName[], env: Record<string, string> = {}): Promise<Stack> {
    const stack = new Stack(uniquePrefix(tag), env);
    for (const name of names) await stack.startApp(name);
    return stack;
  }

  async startApp(name: AppName, env: Record<string, string> = {}): Promise<void> {
    const { process, url } = await this.spawn(name, env);
    this.apps.set(name, { process, url });
  }

  /** Starts one more instance of `name` (for example a second worker) next to the first. */
  async startExtra(
    name: AppName,
    env: Record<string, string> = {},
  ): Promise<{ process: AppProcess; url: string }> {
    const started = await this.spawn(name, env);
    this.extras.push(started.process);
    return started;
  }

  private async spawn(name: AppName, env: Record<string, string>) {
    const port = await freePort();
    const process = AppProcess.node(distPath(`apps/${name}/src/main.js`), {
      ...appTestEnv(this.prefix),
      [PORT_VARIABLE[name]]: String(port),
      ...this.env,
      ...env,
    });
    const url = `http://127.0.0.1:${port}`;
    try {
      await process.waitForHttp(`${url}/health/ready`);
    } catch (error) {
      await process.stop();
      throw error;
    }
    return { process, url };
  }

  url(name: AppName): string {
    return this.apps.get(name)!.url;
  }

  process(name: AppName): AppProcess {
    return this.apps.get(name)!.process;
  }

  /** kill -9: no graceful anything. */
  async crash(name: AppName): Promise<void> {
    const app = this.apps.get(name)!;
    app.process.kill('SIGKILL');
    await app.process.exited;
  }

  /** Stops every app, then removes this stack's queues and exchanges from the broker. */
  async stop(): Promise<void> {
    await Promise.all(
      [...[...this.apps.values()].map((a) => a.process), ...this.extras].map((p) => p.stop()),
    );
    await cleanupBroker(this.prefix);
  }
}

/** Runs the operators' CLI (`npm run tally -- …`) against this run's database. */
export async function tallyCli(args: string[], env: Record<string, string> = {}) {
  const cli = AppProcess.node(
    distPath('apps/admin/src/cli/main.js'),
    { DATABASE_URL: testSettings().databaseUrl, ...env },
    args,
  );
  const { code } = await cli.exited;
  return { code, stdout: cli.stdout.join('\n'), stderr: cli.stderr.join('\n') };
}

export async function createTenant(name = 'Test tenant'): Promise<{ tenantId: string; apiKey: string }> {
  const result = await tallyCli(['tenants:create', name]);
  if (result.code !== 0) throw new Error(`tenants:create failed: ${result.stderr}`);
  return JSON.parse(result.stdout.trim().split('\n').pop()!);
}

/**
 * One request with supertest, the body sent exactly as given; the answer's body parsed as JSON when
 * it is JSON (the raw text is kept too), its headers as a fetch Headers.
 */
export async function send(
  baseUrl: string,
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: string,
): Promise<ApiResponse> {
  const agent = request(baseUrl) as unknown as Record<string, (path: string) => Test>;
  const call = agent[method.toLowerCase()](path)
    .set(headers)
    // The raw bytes, whatever the content type (superagent would otherwise parse some for us).
    .buffer(true)
    .parse((res, done) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => done(null, Buffer.concat(chunks)));
    });
  const res = await (body === undefined ? call : call.send(body));
  const bytes = res.body as Buffer;
  const text = bytes.toString('utf8');
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    // not JSON: tests look at `text`
  }
  const answerHeaders = new Headers();
  for (const [name, value] of Object.entries(res.headers as Record<string, string | string[]>)) {
    for (const v of Array.isArray(value) ? value : [value]) answerHeaders.append(name, String(v));
  }
  const answer = { status: res.status, headers: answerHeaders, body: parsed, text, bytes };
  // Every answer a test receives from an API with a generated document must match it.
  await checkAgainstDocument(baseUrl, method, path, answer);
  return answer;
}

// Test responses are read loosely: assertions check their shape.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export interface ApiResponse<T = any> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
  /** The body as it came, for answers that are not text (a PDF). */
  bytes: Buffer;
}

/** A tiny HTTP client (supertest) for the public API, as a tenant. */
export class Api {
  constructor(
    readonly baseUrl: string,
    readonly apiKey: string,
  ) {}

  async request(
    method: string,
    path: string,
    options: { body?: unknown; raw?: string; headers?: Record<string, string> } = {},
  ): Promise<ApiResponse> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.apiKey}`, ...options.headers };
    let body: string | undefined = options.raw;
    if (options.body !== undefined) {
      body = JSON.stringify(options.body);
      headers['content-type'] ??= 'application/json';
    }
    return send(this.baseUrl, method, path, headers, body);
  }

  get(path: string, headers?: Record<string, string>) {
    return this.request('GET', path, { headers });
  }

  post(path: string, body?: unknown, headers?: Record<string, string>) {
    return this.request('POST', path, { body, headers });
  }

  async account(body: Record<string, unknown> = { currency: 'USD' }): Promise<string> {
    const res = await this.post('/v1/accounts', body);
    if (res.status !== 201) throw new Error(`account creation failed: ${res.status} ${res.text}`);
    return res.body.id;
  }

  /** A new meter (`POST /v1/meters`, 201), as the API answers it. */
  async meter(body: Record<string, unknown>) {
    const res = await this.post('/v1/meters', body);
    if (res.status !== 201) throw new Error(`meter creation failed: ${res.status} ${res.text}`);
    return res.body;
  }

  /** Posts a transaction with a fresh Idempotency-Key and waits (up to 10 s) for its outcome. */
  async transact(body: Record<string, unknown>, wait = 10) {
    return this.post('/v1/transactions', body, {
      'idempotency-key': `k-${Math.random().toString(36).slice(2)}-${Date.now()}`,
      prefer: `wait=${wait}`,
    });
  }

  async deposit(accountId: string, amount: number, currency = 'USD') {
    const res = await this.transact({ type: 'deposit', destinationAccountId: accountId, amount, currency });
    if (res.body?.status !== 'succeeded')
      throw new Error(`deposit did not succeed: ${res.status} ${res.text}`);
    return res.body;
  }
}

/** Polls until the transaction is final (succeeded or failed). */
export async function waitFinal(api: Api, id: string, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const t = (await api.get(`/v1/transactions/${id}`)).body;
    if (t?.status === 'succeeded' || t?.status === 'failed') return t;
    if (Date.now() > deadline) throw new Error(`${id} still ${t?.status}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Runs `task` for 0..count-1 with at most `concurrency` in flight. */
export async function inParallel<T>(
  count: number,
  concurrency: number,
  task: (i: number) => Promise<T>,
): Promise<T[]> {
  const results: T[] = new Array(count);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, count) }, async () => {
      while (next < count) {
        const i = next++;
        results[i] = await task(i);
      }
    }),
  );
  return results;
}

/**
 * Removes a test prefix's queues and exchanges as soon as a test file is done with them. Quorum
 * queues hold file handles, and a broker with the usual 1,024-descriptor limit stops accepting
 * connections once a few hundred of them pile up.
 */
export async function cleanupBroker(prefix: string): Promise<void> {
  await deletePrefixedBrokerObjects(testSettings().amqpUrl, prefix);
}
