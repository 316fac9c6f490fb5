/**
 * Static checks of what a platform team needs from the manifests beyond their being well formed:
 * autoscalers own their replica counts, the connection budget, network reachability, probe budgets,
 * per-release migration Jobs, operator versions, backups, least privilege, TLS, placement, sizing,
 * images by digest and monitoring. Like checks.ts, each is a function of its inputs returning the
 * problems it found, so the tests run it on the real files and on broken copies alike.
 */
import { parse as parseYaml } from 'yaml';
import { DATABASE_CONNECT_TIMEOUT_MS } from '#persistence';
import { Queues, Topology, standardQueues } from '#messaging';
import type { AppFacts, K8sObject } from './checks.js';
import { allowedFlows, compareFlows, type Endpoint, type Flow, type PodEndpoint } from './network-model.js';

const byKind = (objects: K8sObject[], kind: string) => objects.filter((o) => o.kind === kind);
const find = (objects: K8sObject[], kind: string, name: string) =>
  objects.find((o) => o.kind === kind && o.metadata?.name === name);
const podSpec = (d: K8sObject) => d.spec.template.spec as K8sObject;
const appContainer = (d: K8sObject) => (podSpec(d).containers as K8sObject[])[0];

/** The value of an env variable as the container sees it: literal, or from the ConfigMap. */
function envValue(objects: K8sObject[], container: K8sObject, name: string): string | undefined {
  const literal = ((container.env ?? []) as K8sObject[]).find((e) => e.name === name);
  if (literal?.value !== undefined) return String(literal.value);
  for (const from of (container.envFrom ?? []) as K8sObject[]) {
    const cm = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === from.configMapRef?.name);
    if (cm?.data?.[name] !== undefined) return String(cm.data[name]);
  }
  return undefined;
}

/** ${VAR} / $(VAR) in a value, expanded from the container's env and ConfigMap. */
function expand(objects: K8sObject[], container: K8sObject, value: string): string {
  return value.replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (_whole, ref: string) => {
    const v = envValue(objects, container, ref);
    return v === undefined ? 'secret' : expand(objects, container, v);
  });
}

// ---------------------------------------------------------------------------------------------
// Replicas, connection budget, probes, migration Jobs

/** Deployments whose count an HPA or a ScaledObject owns must not set spec.replicas. */
export function checkOwnedReplicas(objects: K8sObject[]): string[] {
  const owners = [
    ...byKind(objects, 'HorizontalPodAutoscaler').map((h) => [h.spec.scaleTargetRef.name, 'HPA'] as const),
    ...byKind(objects, 'ScaledObject').map((s) => [s.spec.scaleTargetRef.name, 'ScaledObject'] as const),
  ];
  return owners
    .filter(([name]) => find(objects, 'Deployment', name)?.spec?.replicas !== undefined)
    .map(
      ([name, owner]) =>
        `Deployment/${name}: sets spec.replicas although its ${owner} owns the count (every apply resets it)`,
    );
}

/** Connections PostgreSQL keeps for itself and the operator (superuser reserve, instance manager, exporter, backups). */
export const RESERVED_CONNECTIONS = 10;

export interface ConnectionBudget {
  perDeployment: { name: string; pods: number; perPod: number }[];
  jobs: number;
  total: number;
  limit: number;
  problems: string[];
}

/**
 * Every pool at full scale (autoscaler maximum, plus the surge of a rolling update), the outbox
 * relay's LISTEN connection where an app relays, and the migration Job, against max_connections
 * less what PostgreSQL and the operator keep.
 */
export function connectionBudget(objects: K8sObject[], facts: AppFacts): ConnectionBudget {
  const perDeployment = byKind(objects, 'Deployment').map((d) => {
    const name = d.metadata.name as string;
    const hpa = byKind(objects, 'HorizontalPodAutoscaler').find((h) => h.spec.scaleTargetRef.name === name);
    const so = byKind(objects, 'ScaledObject').find((s) => s.spec.scaleTargetRef.name === name);
    const max = hpa?.spec.maxReplicas ?? so?.spec.maxReplicaCount ?? d.spec.replicas ?? 1;
    const surge = d.spec.strategy?.rollingUpdate?.maxSurge ?? 1;
    const c = appContainer(d);
    const pool = Number(envValue(objects, c, 'DATABASE_POOL_MAX') ?? 10);
    const relays =
      (facts.configs.get(name)?.variables.includes('OUTBOX_RELAY_ENABLED') ?? false) &&
      envValue(objects, c, 'OUTBOX_RELAY_ENABLED') !== 'false';
    return { name, pods: max + (typeof surge === 'number' ? surge : 1), perPod: pool + (relays ? 1 : 0) };
  });
  // The migration Job: one connection for the lock and the migrations, one for TypeORM's checks.
  const jobs = byKind(objects, 'Job').length * 2;
  const total = perDeployment.reduce((n, d) => n + d.pods * d.perPod, 0) + jobs;
  const cluster = objects.find((o) => o.kind === 'Cluster' && String(o.apiVersion).startsWith('postgresql'));
  const limit = Number(cluster?.spec?.postgresql?.parameters?.max_connections ?? 100);
  const problems =
    total > limit - RESERVED_CONNECTIONS
      ? [
          `connection budget: ${perDeployment.map((d) => `${d.name} ${d.pods}×${d.perPod}`).join(' + ')} + jobs ${jobs} = ${total} > max_connections ${limit} − ${RESERVED_CONNECTIONS} reserved`,
        ]
      : [];
  return { perDeployment, jobs, total, limit, problems };
}

/**
 * Before it listens, an app waits only for the database (at most DATABASE_CONNECT_TIMEOUT_MS)
 * and its own bootstrap; the broker is connected in the background. So the startup probe must be
 * liveness (readiness would wait for the broker on the consumers) and give at least that long.
 */
export const BOOTSTRAP_ALLOWANCE_S = 20;
export function checkProbeBudgets(objects: K8sObject[]): string[] {
  const problems: string[] = [];
  const needed = DATABASE_CONNECT_TIMEOUT_MS / 1000 + BOOTSTRAP_ALLOWANCE_S;
  for (const d of byKind(objects, 'Deployment')) {
    const c = appContainer(d);
    const where = `Deployment/${d.metadata.name}`;
    const startup = c.startupProbe;
    if (!startup) {
      problems.push(`${where}: no startupProbe (liveness would kill a pod still starting)`);
      continue;
    }
    if (startup.httpGet?.path !== '/health/live')
      problems.push(
        `${where}: startupProbe on ${startup.httpGet?.path}, which waits for the broker; use /health/live`,
      );
    const budget =
      (startup.initialDelaySeconds ?? 0) + (startup.periodSeconds ?? 10) * (startup.failureThreshold ?? 3);
    if (budget < needed)
      problems.push(
        `${where}: startupProbe allows ${budget} s, less than the database connect timeout + bootstrap (${needed} s)`,
      );
    if (c.livenessProbe?.httpGet?.path !== '/health/live')
      problems.push(`${where}: livenessProbe must not depend on the database or broker (/health/live)`);
  }
  return problems;
}

/** The migration Job is named for the release (its pod template cannot change between applies). */
export function checkMigrationJob(objects: K8sObject[]): string[] {
  const problems: string[] = [];
  const jobs = byKind(objects, 'Job').filter((j) => JSON.stringify(j).includes('cli/migrate.js'));
  for (const j of jobs) {
    const version = j.metadata.labels?.['app.kubernetes.io/version'] as string | undefined;
    if (!version) {
      problems.push(`Job/${j.metadata.name}: no app.kubernetes.io/version label (the release)`);
      continue;
    }
    if (!String(j.metadata.name).endsWith(`-${version}`))
      problems.push(
        `Job/${j.metadata.name}: its name does not carry the release ${version}; an upgrade would fail on the Job's immutable template`,
      );
    for (const d of byKind(objects, 'Deployment'))
      if (d.spec.template.metadata?.labels?.['app.kubernetes.io/version'] !== version)
        problems.push(`Deployment/${d.metadata.name}: pods are not labelled with the release ${version}`);
  }
  return problems;
}

// ---------------------------------------------------------------------------------------------
// Network reachability

const EXTERNAL_PODS: PodEndpoint[] = [
  {
    kind: 'pod',
    name: 'ingress-nginx',
    namespace: 'ingress-nginx',
    labels: { 'app.kubernetes.io/name': 'ingress-nginx' },
    ports: [],
  },
  {
    kind: 'pod',
    name: 'prometheus',
    namespace: 'monitoring',
    labels: { 'app.kubernetes.io/name': 'prometheus' },
    ports: [],
  },
  { kind: 'pod', name: 'keda', namespace: 'keda', labels: { app: 'keda-operator' }, ports: [] },
  {
    kind: 'pod',
    name: 'cnpg-operator',
    namespace: 'cnpg-system',
    labels: { 'app.kubernetes.io/name': 'cloudnative-pg' },
    ports: [],
  },
  {
    kind: 'pod',
    name: 'rabbitmq-operators',
    namespace: 'rabbitmq-system',
    labels: { 'app.kubernetes.io/name': 'rabbitmq-cluster-operator' },
    ports: [],
  },
  {
    kind: 'pod',
    name: 'kube-dns',
    namespace: 'kube-system',
    labels: { 'k8s-app': 'kube-dns' },
    ports: [
      { port: 53, protocol: 'UDP' },
      { port: 53, protocol: 'TCP' },
    ],
  },
  {
    kind: 'pod',
    name: 'openshift-dns',
    namespace: 'openshift-dns',
    labels: { 'dns.operator.openshift.io/daemonset-dns': 'default' },
    ports: [
      { port: 5353, protocol: 'UDP' },
      { port: 5353, protocol: 'TCP' },
    ],
  },
  {
    kind: 'pod',
    name: 'other-namespace',
    namespace: 'other',
    labels: { app: 'other' },
    ports: [{ port: 8080 }],
  },
];
const ADDRESSES: Endpoint[] = [
  {
    kind: 'address',
    name: 'nodelocal-dns',
    ip: '169.254.20.10',
    ports: [
      { port: 53, protocol: 'UDP' },
      { port: 53, protocol: 'TCP' },
    ],
  },
  {
    kind: 'address',
    name: 'internet-v4',
    ip: '203.0.113.10',
    ports: [{ port: 443 }, { port: 8443 }, { port: 587 }, { port: 6443 }],
  },
  { kind: 'address', name: 'internet-v6', ip: '2001:db8::10', ports: [{ port: 443 }, { port: 8443 }] },
  {
    kind: 'address',
    name: 'private-v4',
    ip: '10.20.30.40',
    ports: [{ port: 443 }, { port: 6443 }, { port: 5432 }],
  },
  { kind: 'address', name: 'private-v6', ip: 'fd00::10', ports: [{ port: 443 }] },
  { kind: 'address', name: 'cloud-metadata', ip: '169.254.169.254', ports: [{ port: 80 }] },
];

/** The endpoints of an overlay: its pods (apps, Job, operator-made), add-ons and addresses. */
export function networkEndpoints(objects: K8sObject[]): {
  namespace: string;
  endpoints: Endpoint[];
  tls: boolean;
} {
  const namespace = String(byKind(objects, 'Namespace')[0]?.metadata.name);
  const rabbit = byKind(objects, 'RabbitmqCluster')[0];
  const tls = !!rabbit?.spec?.tls?.secretName;
  const ours: PodEndpoint[] = [
    ...byKind(objects, 'Deployment').map((d) => ({
      kind: 'pod' as const,
      name: d.metadata.name as string,
      namespace,
      labels: d.spec.template.metadata.labels,
      ports: ((appContainer(d).ports ?? []) as K8sObject[]).map((p) => ({
        name: p.name,
        port: p.containerPort,
      })),
    })),
    ...byKind(objects, 'Job').map((j) => ({
      kind: 'pod' as const,
      name: 'migrate-job',
      namespace,
      labels: j.spec.template.metadata.labels,
      ports: [],
    })),
    ...byKind(objects, 'Cluster').map((c) => ({
      kind: 'pod' as const,
      name: 'postgres',
      namespace,
      labels: { 'cnpg.io/cluster': c.metadata.name },
      ports: [
        { name: 'postgresql', port: 5432 },
        { name: 'status', port: 8000 },
        { name: 'metrics', port: 9187 },
      ],
    })),
    ...byKind(objects, 'RabbitmqCluster').map((r) => ({
      kind: 'pod' as const,
      name: 'rabbitmq',
      namespace,
      labels: { 'app.kubernetes.io/name': r.metadata.name, 'app.kubernetes.io/component': 'rabbitmq' },
      ports: [
        { name: 'amqp', port: 5672 },
        ...(tls ? [{ name: 'amqps', port: 5671 }] : []),
        { name: 'management', port: 15672 },
        { name: 'prometheus', port: 15692 },
        { name: 'epmd', port: 4369 },
        { name: 'cluster-links', port: 25672 },
      ],
    })),
    ...redisWorkloads(objects).map((s) => ({
      kind: 'pod' as const,
      name: 'redis',
      namespace,
      labels: s.spec.template.metadata.labels,
      ports: ((redisContainer(s)!.ports ?? []) as K8sObject[]).map((p) => ({
        name: p.name,
        port: p.containerPort,
      })),
    })),
    // Any other pod someone runs in the namespace: default deny must hold for it.
    { kind: 'pod', name: 'stranger', namespace, labels: { app: 'stranger' }, ports: [{ port: 8080 }] },
  ];
  return { namespace, endpoints: [...ours, ...EXTERNAL_PODS, ...ADDRESSES], tls };
}

/**
 * The flows Tally's architecture needs (k8s/README.md, "Network"). `redisClients`: the apps whose
 * configuration reads REDIS_URL (redisClients(facts)), each of which needs Redis.
 */
export function neededFlows(
  objects: K8sObject[],
  endpoints: Endpoint[],
  tls: boolean,
  redisClients: string[],
): Flow[] {
  const flows: Flow[] = [];
  const add = (from: string, to: string, port: number, protocol = 'TCP') =>
    flows.push({ from, to, port, protocol });
  const apps = byKind(objects, 'Deployment').map((d) => d.metadata.name as string);
  const portOf = (name: string) => endpoints.find((e) => e.name === name)!.ports[0].port;
  const addresses = endpoints.filter((e) => e.kind === 'address' && e.name !== 'nodelocal-dns');
  const amqp = tls ? 5671 : 5672;
  // DNS for every pod of the namespace (allow-dns selects them all).
  const redis = endpoints.some((e) => e.name === 'redis') ? ['redis'] : [];
  for (const pod of [...apps, 'migrate-job', 'postgres', 'rabbitmq', ...redis, 'stranger']) {
    for (const protocol of ['UDP', 'TCP']) {
      add(pod, 'kube-dns', 53, protocol);
      add(pod, 'nodelocal-dns', 53, protocol);
      add(pod, 'openshift-dns', 5353, protocol);
    }
  }
  for (const app of ['gateway', 'admin']) add('ingress-nginx', app, portOf(app));
  for (const app of apps) {
    add('prometheus', app, portOf(app));
    add(app, 'postgres', 5432);
    add(app, 'rabbitmq', amqp);
  }
  for (const app of redisClients.filter((a) => apps.includes(a))) add(app, 'redis', REDIS_PORT);
  add('migrate-job', 'postgres', 5432);
  add('keda', 'rabbitmq', amqp);
  add('prometheus', 'postgres', 9187);
  add('prometheus', 'rabbitmq', 15692);
  // Webhooks (any port the tenant's URL names) and SMTP: public addresses only, IPv4 and IPv6.
  for (const a of addresses.filter((x) => x.name.startsWith('internet-')))
    for (const p of a.ports) add('notification', a.name, p.port);
  // The operators' pods among themselves and with their operators; the Kubernetes API and the
  // backup object store, whose addresses depend on the cluster (any address on 443/6443).
  for (const port of [5432, 8000]) {
    add('postgres', 'postgres', port);
    add('cnpg-operator', 'postgres', port);
  }
  for (const port of [4369, 25672]) add('rabbitmq', 'rabbitmq', port);
  add('rabbitmq-operators', 'rabbitmq', 15672);
  for (const pod of ['postgres', 'rabbitmq'])
    for (const a of addresses)
      for (const p of a.ports) if (p.port === 443 || p.port === 6443) add(pod, a.name, p.port);
  return flows;
}

export function checkNetwork(objects: K8sObject[], facts: AppFacts): string[] {
  const { namespace, endpoints, tls } = networkEndpoints(objects);
  const policies = byKind(objects, 'NetworkPolicy');
  return compareFlows(
    allowedFlows(policies, namespace, endpoints),
    neededFlows(objects, endpoints, tls, redisClients(facts)),
  ).map((p) => `NetworkPolicies: ${p}`);
}

// ---------------------------------------------------------------------------------------------
// Operators: versions, backups, monitoring, least privilege

/** Minimum versions documented in k8s/README.md's "Operator versions" table. */
export function documentedMinimums(readme: string): Map<string, string> {
  const section = readme.slice(readme.indexOf('## Operator versions'));
  const rows = section.slice(0, section.indexOf('\n## ', 5)).split('\n');
  const out = new Map<string, string>();
  for (const row of rows) {
    const m = /^\|\s*([^|]+?)\s*\|\s*(\d+\.\d+(?:\.\d+)?)\s*\|/.exec(row);
    if (m) out.set(m[1].replace(/\[([^\]]+)\]\([^)]*\)/, '$1'), m[2]);
  }
  return out;
}

const versionAtLeast = (have: string, want: string) => {
  const a = have.split('.').map(Number);
  const b = want.split('.').map(Number);
  for (let i = 0; i < 3; i++) if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) > (b[i] ?? 0);
  return true;
};

/** What the manifests use, and the operator version each needs (and why). */
export function requiredVersions(objects: K8sObject[]): { operator: string; version: string; why: string }[] {
  const out: { operator: string; version: string; why: string }[] = [];
  const need = (operator: string, version: string, why: string) => out.push({ operator, version, why });
  if (byKind(objects, 'Cluster').length > 0)
    need(
      'CloudNativePG',
      '1.29.2',
      'metrics exporter privilege escalation (fixed in 1.29.1) and the CVEs fixed in 1.29.2',
    );
  if (
    byKind(objects, 'Cluster').some((c) => c.spec.plugins?.length) ||
    byKind(objects, 'ScheduledBackup').some((b) => b.spec.method === 'plugin')
  )
    need('CloudNativePG', '1.26.0', 'CNPG-I plugins (barman-cloud)');
  if (byKind(objects, 'ObjectStore').length > 0)
    need('barman-cloud plugin', '0.14.0', 'the ObjectStore schema these manifests are validated against');
  if (byKind(objects, 'RabbitmqCluster').length > 0)
    need('RabbitMQ Cluster Operator', '2.17.0', 'pods that meet the restricted Pod Security Standard');
  if (byKind(objects, 'User').length > 0 || byKind(objects, 'Permission').length > 0)
    need(
      'Messaging Topology Operator',
      '1.20.1',
      'the User/Permission schema these manifests are validated against',
    );
  for (const ta of byKind(objects, 'TriggerAuthentication')) {
    const params = ((ta.spec.secretTargetRef ?? []) as K8sObject[]).map((r) => r.parameter as string);
    if (params.includes('username') || params.includes('password'))
      need('KEDA', '2.16.0', 'rabbitmq scaler username/password parameters (ignored before 2.16)');
    if (params.includes('tls') || params.includes('ca')) need('KEDA', '2.10.0', 'rabbitmq scaler TLS');
    if (!params.includes('host') && !params.includes('username'))
      out.push({
        operator: 'KEDA',
        version: '99.0.0',
        why: `TriggerAuthentication/${ta.metadata.name} gives the scaler no login`,
      });
  }
  if (
    byKind(objects, 'Deployment').some((d) =>
      (podSpec(d).topologySpreadConstraints ?? []).some((t: K8sObject) => t.matchLabelKeys),
    )
  )
    need('Kubernetes', '1.27.0', 'matchLabelKeys in topologySpreadConstraints');
  return out;
}

export function checkOperatorVersions(objects: K8sObject[], readme: string): string[] {
  const documented = documentedMinimums(readme);
  return requiredVersions(objects)
    .filter((r) => !documented.has(r.operator) || !versionAtLeast(documented.get(r.operator)!, r.version))
    .map(
      (r) =>
        `${r.operator} ${r.version} or later is needed (${r.why}); k8s/README.md says ${documented.get(r.operator) ?? 'nothing'}`,
    );
}

/** The label the Prometheus selects monitoring objects by (k8s/README.md). */
export const MONITORING_LABEL = { release: 'kube-prometheus-stack' };

export function checkMonitoring(objects: K8sObject[]): string[] {
  const problems: string[] = [];
  for (const o of objects.filter((x) => ['ServiceMonitor', 'PodMonitor', 'PrometheusRule'].includes(x.kind)))
    for (const [k, v] of Object.entries(MONITORING_LABEL))
      if (o.metadata.labels?.[k] !== v)
        problems.push(`${o.kind}/${o.metadata.name}: no label ${k}=${v}: the Prometheus would not select it`);
  for (const c of byKind(objects, 'Cluster')) {
    if (c.spec.monitoring?.enablePodMonitor)
      problems.push(`Cluster/${c.metadata.name}: enablePodMonitor is deprecated`);
    const pm = byKind(objects, 'PodMonitor').find(
      (p) => p.spec.selector?.matchLabels?.['cnpg.io/cluster'] === c.metadata.name,
    );
    if (!pm) problems.push(`Cluster/${c.metadata.name}: no PodMonitor selects its pods (cnpg.io/cluster)`);
    else if (!(pm.spec.podMetricsEndpoints ?? []).some((e: K8sObject) => e.port === 'metrics'))
      problems.push(`PodMonitor/${pm.metadata.name}: scrapes no port named metrics`);
  }
  if (byKind(objects, 'PrometheusRule').length === 0) problems.push('no PrometheusRule');
  return problems;
}

export function checkBackups(objects: K8sObject[]): string[] {
  const problems: string[] = [];
  for (const c of byKind(objects, 'Cluster')) {
    const where = `Cluster/${c.metadata.name}`;
    const plugin = ((c.spec.plugins ?? []) as K8sObject[]).find(
      (p) => p.name === 'barman-cloud.cloudnative-pg.io',
    );
    if (!plugin?.isWALArchiver)
      problems.push(`${where}: WAL is not archived (barman-cloud plugin, isWALArchiver)`);
    const store = plugin?.parameters?.barmanObjectName;
    const os = store && find(objects, 'ObjectStore', store);
    if (plugin && !os) problems.push(`${where}: ObjectStore ${store} does not exist`);
    if (os) {
      const creds = JSON.stringify(os.spec.configuration?.s3Credentials ?? {});
      if (!/"name":/.test(creds))
        problems.push(`ObjectStore/${store}: credentials do not come from a Secret`);
      if (!os.spec.retentionPolicy) problems.push(`ObjectStore/${store}: no retentionPolicy`);
    }
    const scheduled = byKind(objects, 'ScheduledBackup').filter(
      (b) => b.spec.cluster?.name === c.metadata.name,
    );
    if (scheduled.length === 0) problems.push(`${where}: no ScheduledBackup`);
    for (const b of scheduled)
      if (b.spec.method !== 'plugin' || b.spec.pluginConfiguration?.name !== 'barman-cloud.cloudnative-pg.io')
        problems.push(`ScheduledBackup/${b.metadata.name}: method must be plugin (barman-cloud)`);
  }
  return problems;
}

/**
 * Broker permissions: each app connects as its own non-administrator user, whose permissions
 * cover every name of the topology (an app declares all of it) and nothing outside it; KEDA
 * reads its one queue and nothing more.
 */
export function checkBrokerUsers(objects: K8sObject[], apps: string[]): string[] {
  const problems: string[] = [];
  const topology = new Topology({
    prefix: '',
    retryDelaysMs: [200, 1000, 10_000, 60_000, 300_000, 3_600_000],
    deliveryLimit: 5,
    queues: standardQueues,
  });
  const names = [...topology.allExchangeNames(), ...topology.allQueueNames()];
  const outside = [
    'other.queue',
    'tally.commands.extra',
    'amq.rabbitmq.log',
    'x-transaction-worker.commands',
  ];
  const userOf = (app: string) => {
    const d = find(objects, 'Deployment', app);
    const ref =
      d &&
      ((appContainer(d).env ?? []) as K8sObject[]).find((e) => e.name === 'AMQP_USER')?.valueFrom
        ?.secretKeyRef?.name;
    return ref ? String(ref).replace(/-user-credentials$/, '') : undefined;
  };
  const permissionOf = (user: string) =>
    byKind(objects, 'Permission').find((p) => p.spec.userReference?.name === user);
  const users = new Set<string>();
  for (const app of apps) {
    const user = userOf(app);
    if (!user || !find(objects, 'User', user)) {
      problems.push(`Deployment/${app}: does not connect as a User of its own (Messaging Topology Operator)`);
      continue;
    }
    if (users.has(user)) problems.push(`User/${user}: shared by more than one app`);
    users.add(user);
    const tags = (find(objects, 'User', user)!.spec.tags ?? []) as string[];
    if (tags.length > 0) problems.push(`User/${user}: tags ${tags.join(', ')} (the apps need none)`);
    const perm = permissionOf(user);
    if (!perm) {
      problems.push(`User/${user}: no Permission`);
      continue;
    }
    for (const kind of ['configure', 'write', 'read'] as const) {
      const re = new RegExp(perm.spec.permissions?.[kind] ?? '^$');
      for (const n of names)
        if (!re.test(n)) problems.push(`Permission/${perm.metadata.name}: ${kind} does not cover ${n}`);
      for (const n of outside)
        if (re.test(n)) problems.push(`Permission/${perm.metadata.name}: ${kind} also allows ${n}`);
    }
  }
  for (const ta of byKind(objects, 'TriggerAuthentication')) {
    const user = byKind(objects, 'User').find(
      (u) => u.spec.importCredentialsSecret?.name === ta.spec.secretTargetRef?.[0]?.name,
    );
    const perm = user && permissionOf(user.metadata.name);
    if (!perm) {
      problems.push(`TriggerAuthentication/${ta.metadata.name}: KEDA does not log in as a User of its own`);
      continue;
    }
    const p = perm.spec.permissions ?? {};
    if (
      new RegExp(p.configure ?? '^$').test(Queues.transactionWorker.name) ||
      new RegExp(p.write ?? '^$').test(Queues.transactionWorker.name)
    )
      problems.push(`Permission/${perm.metadata.name}: KEDA must be read-only`);
    for (const n of names.filter((x) => x !== Queues.transactionWorker.name))
      if (new RegExp(p.read ?? '^$').test(n))
        problems.push(`Permission/${perm.metadata.name}: KEDA may read ${n}`);
    if (!new RegExp(p.read ?? '^$').test(Queues.transactionWorker.name))
      problems.push(`Permission/${perm.metadata.name}: KEDA cannot read ${Queues.transactionWorker.name}`);
  }
  return problems;
}

// ---------------------------------------------------------------------------------------------
// Pod security, TLS, placement, sizing, images (prod)

export function checkNamespace(objects: K8sObject[]): string[] {
  const ns = byKind(objects, 'Namespace')[0];
  return ns?.metadata.labels?.['pod-security.kubernetes.io/enforce'] === 'restricted'
    ? []
    : [`Namespace/${ns?.metadata.name}: not labelled for the restricted Pod Security Standard (enforce)`];
}

/** A file path in a container, and whether a mounted Secret volume provides it (with that key). */
function mountedSecretFile(
  pod: K8sObject,
  container: K8sObject,
  file: string,
): { secret: string; key: string } | undefined {
  for (const m of (container.volumeMounts ?? []) as K8sObject[]) {
    if (!file.startsWith(`${m.mountPath}/`)) continue;
    const v = ((pod.volumes ?? []) as K8sObject[]).find((x) => x.name === m.name);
    if (!v?.secret) continue;
    const rest = file.slice(m.mountPath.length + 1);
    const item = (v.secret.items as K8sObject[] | undefined)?.find((i) => i.path === rest);
    return { secret: v.secret.secretName, key: item ? item.key : rest };
  }
  return undefined;
}

/** PostgreSQL with verify-full and the cluster's CA; RabbitMQ over AMQPS with its CA (when TLS). */
export function checkTls(objects: K8sObject[], requireBrokerTls: boolean): string[] {
  const problems: string[] = [];
  const cluster = byKind(objects, 'Cluster')[0]?.metadata.name;
  const rabbit = byKind(objects, 'RabbitmqCluster')[0];
  const workloads = [...byKind(objects, 'Deployment'), ...byKind(objects, 'Job')];
  for (const w of workloads) {
    const pod = podSpec(w);
    for (const c of [...(pod.initContainers ?? []), ...pod.containers] as K8sObject[]) {
      const where = `${w.kind}/${w.metadata.name} container ${c.name}`;
      for (const variable of ['DATABASE_URL', 'DATABASE_MIGRATION_URL']) {
        const raw = envValue(objects, c, variable);
        if (raw === undefined) continue;
        // A URI from a Secret (the operator's) stands as its host and database.
        const url = new URL(
          expand(objects, c, raw).replace(/^secret(?=\?|$)/, `postgresql://x@${cluster}-rw/tally`),
        );
        if (url.searchParams.get('sslmode') !== 'verify-full')
          problems.push(`${where}: ${variable} without sslmode=verify-full`);
        const ca = url.searchParams.get('sslrootcert');
        const file = ca ? mountedSecretFile(pod, c, ca) : undefined;
        if (!file || file.secret !== `${cluster}-ca` || file.key !== 'ca.crt')
          problems.push(
            `${where}: ${variable} sslrootcert ${ca} is not the cluster CA (${cluster}-ca, ca.crt) mounted`,
          );
      }
      const amqp = envValue(objects, c, 'AMQP_URL');
      if (amqp !== undefined && requireBrokerTls) {
        const url = new URL(expand(objects, c, amqp));
        if (url.protocol !== 'amqps:' || url.port !== '5671')
          problems.push(`${where}: AMQP_URL is not amqps on 5671`);
        const ca = envValue(objects, c, 'NODE_EXTRA_CA_CERTS');
        const file = ca ? mountedSecretFile(pod, c, ca) : undefined;
        if (!file || file.secret !== rabbit?.spec?.tls?.secretName || file.key !== 'ca.crt')
          problems.push(
            `${where}: the broker's CA (NODE_EXTRA_CA_CERTS) is not ${rabbit?.spec?.tls?.secretName} ca.crt mounted`,
          );
      }
    }
  }
  if (requireBrokerTls && !rabbit?.spec?.tls?.secretName)
    problems.push(`RabbitmqCluster/${rabbit?.metadata.name}: no TLS`);
  return problems;
}

export function checkPlacementAndSizing(objects: K8sObject[]): string[] {
  const problems: string[] = [];
  for (const d of byKind(objects, 'Deployment')) {
    const zone = ((podSpec(d).topologySpreadConstraints ?? []) as K8sObject[]).find(
      (t) => t.topologyKey === 'topology.kubernetes.io/zone',
    );
    if (
      !zone ||
      zone.whenUnsatisfiable !== 'DoNotSchedule' ||
      !(zone.matchLabelKeys ?? []).includes('app.kubernetes.io/name')
    )
      problems.push(`Deployment/${d.metadata.name}: pods not spread over zones per app (DoNotSchedule)`);
  }
  for (const c of byKind(objects, 'Cluster')) {
    const where = `Cluster/${c.metadata.name}`;
    if (
      c.spec.affinity?.podAntiAffinityType !== 'required' ||
      c.spec.affinity?.enablePodAntiAffinity === false
    )
      problems.push(`${where}: instances may share a node (podAntiAffinityType: required)`);
    if ((c.spec.instances ?? 1) < 3) problems.push(`${where}: fewer than three instances`);
    if (JSON.stringify(c.spec.resources?.requests) !== JSON.stringify(c.spec.resources?.limits))
      problems.push(`${where}: requests differ from limits (not Guaranteed QoS)`);
    if (!c.spec.walStorage) problems.push(`${where}: WAL shares the data volume`);
  }
  for (const r of byKind(objects, 'RabbitmqCluster')) {
    const where = `RabbitmqCluster/${r.metadata.name}`;
    const labels = { 'app.kubernetes.io/name': r.metadata.name };
    const anti = (r.spec.affinity?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution ??
      []) as K8sObject[];
    if (
      !anti.some(
        (a) =>
          a.topologyKey === 'kubernetes.io/hostname' &&
          Object.entries(a.labelSelector?.matchLabels ?? {}).every(
            ([k, v]) => labels[k as keyof typeof labels] === v,
          ),
      )
    )
      problems.push(`${where}: nodes may share a Kubernetes node (required pod anti-affinity)`);
    const replicas = r.spec.replicas ?? 1;
    if (replicas < 3 || replicas % 2 === 0)
      problems.push(`${where}: ${replicas} nodes (an odd number, three or more)`);
    if (JSON.stringify(r.spec.resources?.requests) !== JSON.stringify(r.spec.resources?.limits))
      problems.push(`${where}: requests differ from limits`);
    const config = String(r.spec.rabbitmq?.additionalConfig ?? '');
    if (!/disk_free_limit\.relative\s*=\s*(1(\.\d+)?|[2-9](\.\d+)?)\b/.test(config))
      problems.push(`${where}: disk_free_limit.relative below 1.0`);
    if (!/cluster_partition_handling\s*=\s*pause_minority/.test(config))
      problems.push(`${where}: cluster_partition_handling is not pause_minority`);
    const pdb = byKind(objects, 'PodDisruptionBudget').find((p) =>
      Object.entries(p.spec.selector?.matchLabels ?? {}).every(
        ([k, v]) => labels[k as keyof typeof labels] === v,
      ),
    );
    if (!pdb || pdb.spec.maxUnavailable !== 1)
      problems.push(`${where}: no PodDisruptionBudget (maxUnavailable: 1)`);
  }
  return problems;
}

export function checkImageDigests(objects: K8sObject[]): string[] {
  const problems: string[] = [];
  for (const w of [...byKind(objects, 'Deployment'), ...byKind(objects, 'Job')])
    for (const c of [...(podSpec(w).initContainers ?? []), ...podSpec(w).containers] as K8sObject[])
      if (!/@sha256:[a-f0-9]{64}$/.test(String(c.image)))
        problems.push(
          `${w.kind}/${w.metadata.name} container ${c.name}: image ${c.image} is not referenced by digest`,
        );
  return problems;
}

/** The app Secret of the Cluster reloads the role's password when it changes (dev: generated). */
export function checkReloadLabel(objects: K8sObject[], readme: string): string[] {
  const problems: string[] = [];
  for (const c of byKind(objects, 'Cluster'))
    for (const role of (c.spec.managed?.roles ?? []) as K8sObject[]) {
      const name = role.passwordSecret?.name;
      if (!name) continue;
      const secret = find(objects, 'Secret', name);
      if (secret && secret.metadata.labels?.['cnpg.io/reload'] === undefined)
        problems.push(`Secret/${name}: no cnpg.io/reload label (a new password would not reach PostgreSQL)`);
      if (!secret && !new RegExp(`label secret ${name} cnpg\\.io/reload=`).test(readme))
        problems.push(`k8s/README.md: does not label ${name} with cnpg.io/reload`);
    }
  return problems;
}

// ---------------------------------------------------------------------------------------------
// Redis

export const REDIS_PORT = 6379;
/** The oldest Redis release these manifests may run, and why (k8s/README.md, "Redis"). */
export const REDIS_MINIMUM = {
  version: '7.2.11',
  why: 'the Lua use-after-free CVE-2025-49844 (the apps run Lua)',
};

/** The apps whose configuration reads REDIS_URL: each must be given one, and a path to Redis. */
export function redisClients(facts: AppFacts): string[] {
  return [...facts.configs]
    .filter(([, config]) => config.variables.includes('REDIS_URL'))
    .map(([app]) => app)
    .sort();
}

const isRedisImage = (image: unknown) => /(?:^|\/)redis(?:[:@]|$)/.test(String(image));
const redisContainer = (w: K8sObject) =>
  (podSpec(w).containers as K8sObject[]).find((c) => isRedisImage(c.image));
const redisWorkloads = (objects: K8sObject[]) =>
  [...byKind(objects, 'StatefulSet'), ...byKind(objects, 'Deployment')].filter((w) => redisContainer(w));

/** "192mb", "1gb" (Redis) and "256Mi", "1G" (Kubernetes) in bytes. */
function bytes(value: unknown): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kmgt]?)(i?)b?$/i.exec(String(value ?? '').trim());
  if (!m) return NaN;
  const power = ' kmgt'.indexOf(m[2].toLowerCase() || ' ');
  // Redis reads "mb" as 1024², "m" as 10⁶; Kubernetes "Mi" as 1024², "M" as 10⁶.
  const binary = m[3] !== '' || /b$/i.test(String(value).trim());
  return Number(m[1]) * (binary ? 1024 : 1000) ** power;
}

/** The value after a flag in a container's arguments (redis-server --flag value). */
const argAfter = (args: string[], flag: string) => {
  const i = args.indexOf(flag);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : undefined;
};

/** The Secret and key an env variable of the container is read from. */
const secretOf = (container: K8sObject, variable: string) => {
  const ref = ((container.env ?? []) as K8sObject[]).find((e) => e.name === variable)?.valueFrom
    ?.secretKeyRef;
  return ref ? { name: String(ref.name), key: String(ref.key) } : undefined;
};

/** Is this Secret key in k8s/README.md's table of Secrets you create? */
const documentedSecret = (readme: string, name: string, key: string) =>
  readme.split('\n').some((row) => row.startsWith(`| \`${name}\``) && row.includes(`\`${key}\``));

/**
 * Redis as a cache the apps share: one pod (two standalone Redis behind one Service would split
 * every bucket), nothing persisted, a password from a documented Secret, the restricted Pod
 * Security Standard, probes, a memory limit above maxmemory, a PodDisruptionBudget, an image
 * pinned to a release at least REDIS_MINIMUM and the one docker/compose.yaml runs. Every app whose
 * config reads REDIS_URL is given one; every REDIS_URL names a Service that leads to that Redis,
 * with the password as $(VAR) from the same Secret (never written in a manifest).
 */
export function checkRedis(
  objects: K8sObject[],
  inputs: { clients: string[]; compose: string; readme: string },
): string[] {
  const problems: string[] = [];
  const redis = redisWorkloads(objects);
  let password: { name: string; key: string } | undefined;
  for (const w of redis) {
    const where = `${w.kind}/${w.metadata.name}`;
    const pod = podSpec(w);
    const c = redisContainer(w)!;
    const args = ([...(c.command ?? []), ...(c.args ?? [])] as unknown[]).map(String);
    if (w.kind !== 'StatefulSet' || (w.spec.replicas ?? 1) !== 1)
      problems.push(
        `${where}: Redis must be a StatefulSet of one pod (a rollout or a second replica would run two Redis behind one Service, each with half the buckets)`,
      );
    if (argAfter(args, '--save') !== '' || argAfter(args, '--appendonly') !== 'no')
      problems.push(`${where}: Redis persists (a cache: --save "" --appendonly no)`);
    if ((w.spec.volumeClaimTemplates ?? []).length > 0)
      problems.push(`${where}: claims a PersistentVolume (a cache keeps nothing)`);
    const requirepass = argAfter(args, '--requirepass');
    const variable = /^\$\(([A-Za-z_][A-Za-z0-9_]*)\)$/.exec(requirepass ?? '')?.[1];
    password = variable ? secretOf(c, variable) : undefined;
    if (!password)
      problems.push(`${where}: no password from a Secret (--requirepass $(VAR), VAR from a secretKeyRef)`);
    else if (!documentedSecret(inputs.readme, password.name, password.key))
      problems.push(
        `${where}: the Secret ${password.name} (key ${password.key}) is not in k8s/README.md's table of Secrets to create`,
      );
    const maxmemory = bytes(argAfter(args, '--maxmemory'));
    const limit = bytes(c.resources?.limits?.memory);
    if (!(maxmemory < limit))
      problems.push(
        `${where}: --maxmemory ${argAfter(args, '--maxmemory')} is not below the memory limit ${c.resources?.limits?.memory} (Redis would be OOM-killed instead of evicting)`,
      );
    if (!c.resources?.requests?.cpu || !c.resources?.requests?.memory)
      problems.push(`${where}: needs cpu and memory requests`);
    // The restricted Pod Security Standard, and no token: Redis never calls the Kubernetes API.
    const sc = c.securityContext ?? {};
    const podSc = pod.securityContext ?? {};
    if ((sc.runAsNonRoot ?? podSc.runAsNonRoot) !== true || (sc.runAsUser ?? podSc.runAsUser) === 0)
      problems.push(`${where}: must run as non-root`);
    if ((sc.seccompProfile ?? podSc.seccompProfile)?.type !== 'RuntimeDefault')
      problems.push(`${where}: seccompProfile must be RuntimeDefault`);
    if (sc.allowPrivilegeEscalation !== false)
      problems.push(`${where}: allowPrivilegeEscalation must be false`);
    if (!(sc.capabilities?.drop ?? []).includes('ALL') || (sc.capabilities?.add ?? []).length > 0)
      problems.push(`${where}: capabilities must drop ALL and add none`);
    if (sc.privileged) problems.push(`${where}: must not be privileged`);
    if (sc.readOnlyRootFilesystem !== true) problems.push(`${where}: readOnlyRootFilesystem must be true`);
    const emptyDirs = new Set(
      ((pod.volumes ?? []) as K8sObject[]).filter((v) => v.emptyDir).map((v) => v.name as string),
    );
    const data = ((c.volumeMounts ?? []) as K8sObject[]).find((m) => m.mountPath === '/data');
    if (!data || !emptyDirs.has(data.name))
      problems.push(
        `${where}: needs an emptyDir at /data (its working directory; the root filesystem is read-only)`,
      );
    if (pod.automountServiceAccountToken !== false)
      problems.push(`${where}: automountServiceAccountToken must be false`);
    // Probes: readiness answers PING (authenticated, or NOAUTH keeps it unready for ever).
    if (!c.livenessProbe) problems.push(`${where}: no livenessProbe`);
    if (!c.readinessProbe) problems.push(`${where}: no readinessProbe`);
    for (const probe of ['readinessProbe', 'livenessProbe', 'startupProbe']) {
      const command = ((c[probe]?.exec?.command ?? []) as string[]).join(' ');
      if (command.includes('redis-cli') && !/ -a | --pass /.test(command) && !secretOf(c, 'REDISCLI_AUTH'))
        problems.push(`${where}: ${probe} runs redis-cli without the password (REDISCLI_AUTH): NOAUTH`);
    }
    const labels = w.spec.template.metadata?.labels ?? {};
    const pdb = byKind(objects, 'PodDisruptionBudget').find((p) =>
      Object.entries(p.spec.selector?.matchLabels ?? {}).every(([k, v]) => labels[k] === v),
    );
    if (!pdb) problems.push(`${where}: no PodDisruptionBudget`);
    // Pinned like the operators' images: a whole release (or a digest), the one compose runs.
    const image = String(c.image);
    const version = /:(\d+\.\d+\.\d+)(?:-[\w.]+)?(?:@sha256:[a-f0-9]{64})?$/.exec(image)?.[1];
    if (!version && !/@sha256:[a-f0-9]{64}$/.test(image))
      problems.push(`${where}: image ${image} is not pinned to a release (x.y.z) or a digest`);
    if (version && !versionAtLeast(version, REDIS_MINIMUM.version))
      problems.push(
        `${where}: image ${image}: Redis ${REDIS_MINIMUM.version} or later is needed (${REDIS_MINIMUM.why})`,
      );
    const services = ((parseYaml(inputs.compose, { merge: true }) as K8sObject).services ?? {}) as Record<
      string,
      K8sObject
    >;
    const composed = Object.values(services).find((x) => isRedisImage(x.image))?.image;
    if (composed !== image)
      problems.push(`${where}: image ${image}, but docker/compose.yaml runs ${composed} (the tests' Redis)`);
  }

  // The clients: every app that reads REDIS_URL gets one, leading to that Redis with its password.
  const namespace = String(byKind(objects, 'Namespace')[0]?.metadata.name);
  for (const w of [...byKind(objects, 'Deployment'), ...byKind(objects, 'Job')]) {
    for (const c of [...(podSpec(w).initContainers ?? []), ...podSpec(w).containers] as K8sObject[]) {
      const where = `${w.kind}/${w.metadata.name} container ${c.name}`;
      const entry = ((c.env ?? []) as K8sObject[]).find((e) => e.name === 'REDIS_URL');
      const reads =
        w.kind === 'Deployment' && c === appContainer(w) && inputs.clients.includes(w.metadata.name);
      if (!entry) {
        if (reads && envValue(objects, c, 'REDIS_URL') === undefined)
          problems.push(`${where}: its config reads REDIS_URL but none is given (rate limits per pod)`);
        else if (envValue(objects, c, 'REDIS_URL') !== undefined)
          problems.push(`${where}: REDIS_URL from a ConfigMap would put the password in a manifest`);
        continue;
      }
      if (!reads) problems.push(`${where}: sets REDIS_URL, which its config does not read`);
      if (entry.value === undefined) {
        problems.push(`${where}: REDIS_URL must be built in the manifest with $(VAR) for its password`);
        continue;
      }
      const m = /^(rediss?):\/\/(?:[^:@/]*:([^@/]*)@)?([^:/?#]+)(?::(\d+))?(?:[/?#].*)?$/.exec(
        String(entry.value),
      );
      if (!m) {
        problems.push(`${where}: REDIS_URL ${entry.value} is not a redis:// URL`);
        continue;
      }
      const [, , pass, host, port] = m;
      const variable = /^\$\(([A-Za-z_][A-Za-z0-9_]*)\)$/.exec(pass ?? '')?.[1];
      const from = variable ? secretOf(c, variable) : undefined;
      if (pass && !variable) problems.push(`${where}: REDIS_URL carries a password written in the manifest`);
      else if (!from) problems.push(`${where}: REDIS_URL has no password from a Secret ($(VAR))`);
      else if (password && (from.name !== password.name || from.key !== password.key))
        problems.push(
          `${where}: REDIS_URL's password is ${from.name}/${from.key}, but Redis requires ${password.name}/${password.key}`,
        );
      const [service, ns] = host.split('.');
      const svc = find(objects, 'Service', service);
      if (!svc) {
        problems.push(`${where}: REDIS_URL points at ${host}, which no Service serves`);
        continue;
      }
      if (ns !== undefined && ns !== namespace)
        problems.push(`${where}: REDIS_URL points at ${host}, not in namespace ${namespace}`);
      const selector = (svc.spec.selector ?? {}) as Record<string, string>;
      const target = redis.find(
        (r) =>
          Object.keys(selector).length > 0 &&
          Object.entries(selector).every(([k, v]) => r.spec.template.metadata?.labels?.[k] === v),
      );
      if (!target) problems.push(`${where}: REDIS_URL points at Service ${service}, which selects no Redis`);
      const wanted = Number(port ?? REDIS_PORT);
      if (!((svc.spec.ports ?? []) as K8sObject[]).some((p) => p.port === wanted))
        problems.push(`${where}: REDIS_URL port ${wanted} is not a port of Service ${service}`);
    }
  }
  return problems;
}

// ---------------------------------------------------------------------------------------------
// Alerts and the dashboard

export function checkPrometheusRule(objects: K8sObject[], alertsYaml: string): string[] {
  const rule = byKind(objects, 'PrometheusRule').find((r) => r.metadata.name === 'tally');
  const groups = (parseYaml(alertsYaml) as K8sObject).groups;
  if (!rule) return ['no PrometheusRule tally'];
  // Kustomize writes keys in its own order: compare contents, not order.
  const canonical = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map(canonical)
      : v && typeof v === 'object'
        ? Object.fromEntries(
            Object.keys(v)
              .sort()
              .map((k) => [k, canonical((v as K8sObject)[k])]),
          )
        : v;
  return JSON.stringify(canonical(rule.spec.groups)) === JSON.stringify(canonical(groups))
    ? []
    : ['PrometheusRule/tally differs from docker/prometheus/alerts.yml (node scripts/prometheusrule.mjs)'];
}

export function checkDashboardConfigMap(objects: K8sObject[], dashboardJson: string): string[] {
  const cm = byKind(objects, 'ConfigMap').find((c) => c.metadata.labels?.grafana_dashboard !== undefined);
  if (!cm) return ['no ConfigMap labelled grafana_dashboard (the Grafana sidecar would load no dashboard)'];
  return Object.values(cm.data ?? {}).includes(dashboardJson)
    ? []
    : [`ConfigMap/${cm.metadata.name}: not the dashboard`];
}

// ---------------------------------------------------------------------------------------------
// Compose for --scale

/** The consumers scale (no fixed host port), Prometheus finds replicas by DNS, and the data services are stable. */
export function checkComposeScaling(compose: string, prometheusYaml: string): string[] {
  const problems: string[] = [];
  const services = (parseYaml(compose, { merge: true }) as K8sObject).services as Record<string, K8sObject>;
  const consumers = Object.entries(services).filter(([, s]) =>
    ['transaction-worker', 'notification'].includes(s.build?.args?.APP),
  );
  for (const [name, s] of consumers)
    for (const p of (s.ports ?? []) as (string | K8sObject)[])
      if (typeof p === 'string' ? p.includes(':') : p.published !== undefined)
        problems.push(`service ${name}: fixed host port ${JSON.stringify(p)} (--scale would fail)`);
  const prom = parseYaml(prometheusYaml) as K8sObject;
  const jobs = (prom.scrape_configs ?? []) as K8sObject[];
  for (const [name, s] of Object.entries(services)) {
    if (!s.build?.args?.APP || String(s.command ?? '').includes('migrate')) continue;
    const dns = jobs.some((j) =>
      ((j.dns_sd_configs ?? []) as K8sObject[]).some((d) => (d.names ?? []).includes(name)),
    );
    if (!dns) problems.push(`prometheus: ${name} is not found by DNS service discovery (one replica only)`);
    if (
      jobs.some((j) =>
        ((j.static_configs ?? []) as K8sObject[]).some((c) =>
          (c.targets ?? []).some((t: string) => t.startsWith(`${name}:`)),
        ),
      )
    )
      problems.push(`prometheus: ${name} is a static target (scrapes one replica)`);
  }
  const pg = services.postgres?.healthcheck?.test as string[] | undefined;
  if (pg && pg.includes('pg_isready') && !pg.includes('-h'))
    problems.push('service postgres: pg_isready without -h passes during the first-time init (socket only)');
  if (services.rabbitmq && !services.rabbitmq.hostname)
    problems.push(
      'service rabbitmq: no fixed hostname (a new container is a new node; its data is orphaned)',
    );
  if (!services.alertmanager) problems.push('no alertmanager service');
  if (!prom.rule_files?.length || !prom.alerting) problems.push('prometheus: no rule_files or alerting');
  return problems;
}

/** Node release lines out of support (the Dockerfile's runtime must not use one). */
export function checkNodeRuntime(dockerfile: string): string[] {
  const problems: string[] = [];
  const version = /^ARG NODE_VERSION=(\d+)/m.exec(dockerfile)?.[1];
  if (!version || Number(version) < 22 || Number(version) % 2 === 1)
    problems.push(`NODE_VERSION ${version}: not a supported LTS line (22 or later, even)`);
  const stages = dockerfile.split(/^FROM /m);
  const final = stages[stages.length - 1];
  if (!/^ENTRYPOINT \["\/usr\/bin\/tini", "--"\]/m.test(final))
    problems.push('the runtime stage does not run tini as PID 1');
  return problems;
}
