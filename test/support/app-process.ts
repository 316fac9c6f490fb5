import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { waitFor } from './env.js';

/** The checkout: the nearest folder with a package.json above this file (run from test/ or dist/test/). */
export const repoRoot = (function find(dir: string): string {
  if (existsSync(path.join(dir, 'package.json'))) return dir;
  const parent = path.dirname(dir);
  if (parent === dir) throw new Error('no package.json above the test support');
  return find(parent);
})(path.dirname(fileURLToPath(import.meta.url)));
export const distPath = (...parts: string[]) => path.join(repoRoot, 'dist', ...parts);

export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const running = new Set<AppProcess>();
// A test process that ends (even by --test-force-exit) takes its child apps with it.
process.on('exit', () => {
  for (const app of running) app.kill('SIGKILL');
});

/** A real app (or any node entry point) in a child process, with its output kept for assertions. */
export class AppProcess {
  readonly stdout: string[] = [];
  readonly stderr: string[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Set once the process has exited. */
  exit?: { code: number | null; signal: NodeJS.Signals | null };
  private readonly child: ChildProcess;
  private readonly detached: boolean;

  /** `detached` starts a process group (for `npm run …`), so signals reach its children too. */
  constructor(
    command: string,
    args: string[],
    env: Record<string, string>,
    options: { detached?: boolean } = {},
  ) {
    this.detached = options.detached ?? false;
    this.child = spawn(command, args, {
      cwd: repoRoot,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: options.detached ?? false,
    });
    const collect = (stream: NodeJS.ReadableStream | null, into: string[]) => {
      let partial = '';
      stream?.setEncoding('utf8');
      stream?.on('data', (chunk: string) => {
        const lines = (partial + chunk).split('\n');
        partial = lines.pop() ?? '';
        into.push(...lines);
        if (process.env.TEST_APP_OUTPUT) for (const l of lines) process.stderr.write(`  | ${l}\n`);
      });
    };
    collect(this.child.stdout, this.stdout);
    collect(this.child.stderr, this.stderr);
    running.add(this);
    this.exited = new Promise((resolve) =>
      this.child.on('exit', (code, signal) => {
        running.delete(this);
        this.exit = { code, signal };
        resolve(this.exit);
      }),
    );
  }

  static node(entry: string, env: Record<string, string>, args: string[] = []): AppProcess {
    return new AppProcess(process.execPath, [entry, ...args], env);
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** JSON log lines written so far. */
  logs(): Record<string, unknown>[] {
    return this.stdout.flatMap((line) => {
      try {
        return [JSON.parse(line.slice(line.indexOf('{'))) as Record<string, unknown>];
      } catch {
        return [];
      }
    });
  }

  async waitForHttp(url: string, timeoutMs = 30_000): Promise<void> {
    await waitFor(
      `${url} to answer 200`,
      async () => {
        if (this.child.exitCode !== null || this.child.signalCode !== null) {
          throw new Error(`process exited: ${this.stderr.slice(-20).join('\n')}`);
        }
        return (await fetch(url)).status === 200;
      },
      timeoutMs,
      100,
    );
  }

  kill(signal: NodeJS.Signals = 'SIGTERM'): void {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      if (this.detached) process.kill(-this.child.pid!, signal);
      else this.child.kill(signal);
    }
  }

  async stop(timeoutMs = 15_000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    this.kill('SIGTERM');
    const timer = setTimeout(() => this.kill('SIGKILL'), timeoutMs);
    const result = await this.exited;
    clearTimeout(timer);
    return result;
  }
}
