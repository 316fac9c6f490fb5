import { spawn, type ChildProcess } from 'node:child_process';
import { repoRoot } from './app-process.js';
import { waitFor } from './env.js';

/** The variable through which a test run's shared lock is found by its fault suite. */
export const SHARED_LOCK_PID = 'TALLY_TEST_SHARED_LOCK_PID';

/**
 * The machine-wide services lock (scripts/services-lock.sh), held by a child process for as long
 * as this process lives or until `release`. Every test run holds it shared; the fault-injection
 * suite, which stops and restarts PostgreSQL and RabbitMQ, holds it exclusively.
 */
export class ServicesLock {
  private readonly ended: Promise<void>;

  private constructor(private readonly holder: ChildProcess) {
    this.ended = new Promise((resolve) => holder.on('exit', () => resolve()));
  }

  static async take(mode: 'shared' | 'exclusive'): Promise<ServicesLock> {
    const holder = spawn('bash', ['scripts/services-lock.sh', mode], {
      cwd: repoRoot,
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    await new Promise<void>((resolve, reject) => {
      let out = '';
      holder.stdout!.setEncoding('utf8');
      holder.stdout!.on('data', (chunk: string) => {
        out += chunk;
        if (out.includes('locked\n')) resolve();
      });
      holder.on('exit', (code) => reject(new Error(`services-lock.sh ${mode} exited with ${code}`)));
    });
    // The lock must not keep this process alive; when it ends, its pipe closes and the lock goes.
    holder.unref();
    (holder.stdin as unknown as { unref?: () => void }).unref?.();
    (holder.stdout as unknown as { unref?: () => void }).unref?.();
    return new ServicesLock(holder);
  }

  get pid(): number {
    return this.holder.pid!;
  }

  /** Lets go (from exclusive: once PostgreSQL and RabbitMQ run again). */
  async release(): Promise<void> {
    if (this.holder.exitCode === null && this.holder.signalCode === null) this.holder.kill('SIGUSR1');
    await this.ended;
  }
}

/**
 * Lets go of the shared lock this test run took in its global set-up (another process of the
 * run: its pid is in TALLY_TEST_SHARED_LOCK_PID), so that this process can take it exclusively.
 */
export async function releaseRunSharedLock(): Promise<void> {
  const pid = Number(process.env[SHARED_LOCK_PID]);
  if (!pid) return;
  const alive = () => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  if (alive()) process.kill(pid, 'SIGUSR1');
  await waitFor("the run's shared services lock to be released", () => !alive(), 30_000);
}
