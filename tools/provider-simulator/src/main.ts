import { startProviderSimulator, type SimulatorBehaviour } from './simulator.js';

/**
 * `npm run provider:simulate`: the payment provider simulator on its own, for development and the
 * bench. Settings from the environment (defaults match Tally's development defaults):
 *   PROVIDER_SIMULATOR_PORT        (4100)
 *   PROVIDER_SIMULATOR_API_KEY     (unset: no key asked for)
 *   PROVIDER_SIMULATOR_WEBHOOK_URL (http://127.0.0.1:3000/v1/provider-events)
 *   PROVIDER_SIMULATOR_WEBHOOK_SECRET (dev-provider-webhook-secret)
 *   PROVIDER_SIMULATOR_BEHAVIOUR   (JSON, e.g. {"errorRate":0.3,"settleAfterMs":2000})
 * The behaviour can be changed while it runs: PUT /_sim/behaviour with JSON.
 */
const env = process.env;
const behaviour = JSON.parse(env.PROVIDER_SIMULATOR_BEHAVIOUR ?? '{}') as Partial<SimulatorBehaviour>;
const simulator = await startProviderSimulator({
  port: Number(env.PROVIDER_SIMULATOR_PORT ?? 4100),
  host: env.PROVIDER_SIMULATOR_HOST ?? '127.0.0.1',
  apiKey: env.PROVIDER_SIMULATOR_API_KEY || undefined,
  webhookUrl: env.PROVIDER_SIMULATOR_WEBHOOK_URL ?? 'http://127.0.0.1:3000/v1/provider-events',
  webhookSecret: env.PROVIDER_SIMULATOR_WEBHOOK_SECRET ?? 'dev-provider-webhook-secret',
  behaviour,
});
process.stdout.write(`provider simulator listening on ${simulator.url}\n`);
const stop = () => void simulator.close().then(() => process.exit(0));
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
