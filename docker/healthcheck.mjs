/* global fetch, AbortSignal -- Node 20 globals */
// The image's HEALTHCHECK: GET /health/live on the app's own port (the variable and default of
// each app's config; test/unit/deploy checks this table against the apps' code).
const PORTS = {
  gateway: ['GATEWAY_PORT', 3000],
  admin: ['ADMIN_PORT', 3001],
  'transaction-worker': ['WORKER_PORT', 3002],
  notification: ['NOTIFICATION_PORT', 3003],
};
const [variable, fallback] = PORTS[process.env.APP] ?? [];
if (!variable) {
  console.error(`healthcheck: unknown APP ${process.env.APP}`);
  process.exit(1);
}
const port = process.env[variable] || fallback;
fetch(`http://127.0.0.1:${port}/health/live`, { signal: AbortSignal.timeout(2500) }).then(
  (res) => process.exit(res.ok ? 0 : 1),
  () => process.exit(1),
);
