import { execFile, spawn } from 'node:child_process';
import { readdirSync, rmSync, writeFileSync } from 'node:fs';
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

const BROKER_LIMITS_FILE = `${process.env.TMPDIR ?? '/tmp'}/tally-broker-limits`;

async function brokerEval(expression: string): Promise<string> {
  const { stdout } = await run('rabbitmqctl', ['eval', expression], { timeout: 30_000 });
  return stdout.trim().split('\n').pop()!;
}

/**
 * Raises one of the broker's resource alarms by lowering its threshold below what the node uses:
 * every publishing connection is blocked until it clears. The threshold it had is written to a
 * file first, so that the services lock puts it back even if the suite dies in between.
 */
export async function raiseBrokerAlarm(kind: 'memory' | 'disk'): Promise<() => Promise<void>> {
  const memory = await brokerEval('vm_memory_monitor:get_vm_memory_high_watermark().');
  const disk = await brokerEval('rabbit_disk_monitor:get_disk_free_limit().');
  writeFileSync(BROKER_LIMITS_FILE, `${memory} ${disk}\n`);
  if (kind === 'memory')
    await run('rabbitmqctl', ['set_vm_memory_high_watermark', '0.0001'], { timeout: 30_000 });
  else await run('rabbitmqctl', ['set_disk_free_limit', '100000GB'], { timeout: 30_000 });
  return async () => {
    await run('rabbitmqctl', ['set_vm_memory_high_watermark', memory], { timeout: 30_000 });
    await run('rabbitmqctl', ['set_disk_free_limit', disk], { timeout: 30_000 });
    rmSync(BROKER_LIMITS_FILE, { force: true });
  };
}

/** The alarms the broker has raised now (`memory`, `disk`), none when it publishes freely. */
export async function brokerAlarms(): Promise<string[]> {
  const answer = await brokerEval('rabbit_alarm:get_alarms().');
  return ['memory', 'disk'].filter((kind) =>
    kind === 'memory' ? /memory/.test(answer) : /disk/.test(answer),
  );
}

/** The machine's Redis, killed (no save, no goodbye to its clients) and started again. */
export async function killRedis(): Promise<void> {
  await run('redis-cli', ['-p', '6379', 'shutdown', 'nosave'], { timeout: 10_000 }).catch(() => undefined);
}

export async function startRedis(): Promise<void> {
  await run(
    'redis-server',
    ['--daemonize', 'yes', '--bind', '127.0.0.1', '--port', '6379', '--save', '', '--appendonly', 'no'],
    { timeout: 10_000 },
  );
  for (let i = 0; i < 100; i++) {
    const answer = await run('redis-cli', ['-p', '6379', 'ping'], { timeout: 2_000 }).catch(() => null);
    if (answer?.stdout.trim() === 'PONG') return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('Redis did not start again');
}

/** libfaketime, from Debian's faketime package (scripts/services.sh installs it). */
export const LIBFAKETIME = '/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1';
