import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import amqp from 'amqplib';

const run = promisify(execFile);

/** What `rabbitmqctl` prints for `args`, quietly and without table headers (tests only). */
export async function rabbitmqctl(...args: string[]): Promise<string> {
  const { stdout } = await run('rabbitmqctl', [...args, '--quiet', '--no-table-headers'], {
    timeout: 30_000,
  });
  return stdout;
}

/** Deletes every queue and exchange whose name starts with `prefix` (tests only). */
export async function deletePrefixedBrokerObjects(amqpUrl: string, prefix: string): Promise<void> {
  if (!prefix.startsWith('test.') && !prefix.startsWith('bench.'))
    throw new Error(`refusing to delete broker objects for prefix "${prefix}"`);
  const list = async (what: 'queues' | 'exchanges') => {
    return (await rabbitmqctl('list_' + what, 'name'))
      .split('\n')
      .map((s) => s.trim())
      .filter((s) => s.startsWith(prefix));
  };
  const [queues, exchanges] = await Promise.all([list('queues'), list('exchanges')]);
  const connection = await amqp.connect(amqpUrl);
  try {
    const channel = await connection.createChannel();
    for (const q of queues) await channel.deleteQueue(q);
    for (const e of exchanges) await channel.deleteExchange(e);
    await channel.close();
  } finally {
    await connection.close();
  }
}
