import { execFile, spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { promisify } from 'node:util';

/**
 * Stops and starts the machine's shared PostgreSQL and RabbitMQ. Only the fault suite does this,
 * under the exclusive services lock (scripts/services-lock.sh, which lets go only after it has made
 * sure both run again).
 */
const run = promisify(execFile);

export async function stopBroker(): Promise<void> {
  await run('rabbitmqctl', ['stop_app'], { timeout: 60_000 });
}

export async function startBroker(): Promise<void> {
  await run('rabbitmqctl', ['start_app'], { timeout: 120_000 });
  await run('rabbitmqctl', ['await_startup', '--timeout', '120'], { timeout: 130_000 });
}

/** `pg_ctlcluster … restart` (fast shutdown: every session is cut, as in a failover). */
export async function restartPostgres(): Promise<void> {
  const version = readdirSync('/etc/postgresql').sort().pop()!;
  // The server outlives this command and the suite: no pipe of ours, a session of its own.
  const child = spawn(
    'pg_ctlcluster',
    ['--skip-systemctl-redirect', '--mode', 'fast', version, 'main', 'restart'],
    { stdio: 'ignore', detached: true },
  );
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  if (code !== 0) throw new Error(`pg_ctlcluster restart exited with ${code}`);
}
