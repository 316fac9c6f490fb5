import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { before, describe, it } from 'node:test';
import { repoRoot } from '../../support/app-process.js';
import {
  USER_SECRETS,
  appNames,
  appPorts,
  checkCompose,
  checkManifests,
  checkPrometheus,
  dashboardExpressions,
  dockerIgnored,
  lintDockerfile,
  loadAppFacts,
  promqlMetricNames,
  readRepo,
  renderOverlay,
  validateSchemas,
  type AppFacts,
  type K8sObject,
} from './checks.js';
import {
  checkBackups,
  checkBrokerUsers,
  checkComposeScaling,
  checkDashboardConfigMap,
  checkImageDigests,
  checkMigrationJob,
  checkMonitoring,
  checkNamespace,
  checkNetwork,
  checkNodeRuntime,
  checkOperatorVersions,
  checkOwnedReplicas,
  checkPlacementAndSizing,
  checkProbeBudgets,
  checkPrometheusRule,
  checkReloadLabel,
  checkTls,
  connectionBudget,
  documentedMinimums,
} from './production.js';

const OVERLAYS = ['dev', 'prod'];
const clone = <T>(x: T): T => structuredClone(x);
const find = (objects: K8sObject[], kind: string, name: string) =>
  objects.find((o) => o.kind === kind && o.metadata?.name === name)!;
const container = (objects: K8sObject[], deployment: string) =>
  find(objects, 'Deployment', deployment).spec.template.spec.containers[0];

describe('deployment files (static checks, no services needed)', () => {
  let facts: AppFacts;
  const rendered = new Map<string, K8sObject[]>();
  const dockerfile = readRepo('docker/Dockerfile');
  const dockerignore = readRepo('.dockerignore');
  const compose = readRepo('docker/compose.yaml');

  before(async () => {
    facts = await loadAppFacts();
    for (const overlay of OVERLAYS)
      rendered.set(overlay, renderOverlay(path.join(repoRoot, 'k8s/overlays', overlay)));
  });

  it('reads the facts from the code: four apps, their health routes, the metrics route and queues', () => {
    assert.deepEqual([...facts.shapes.keys()].sort(), appNames());
    assert.deepEqual(appNames(), ['admin', 'gateway', 'notification', 'transaction-worker']);
    assert.deepEqual(facts.healthRoutes.sort(), ['/health/live', '/health/ready']);
    assert.equal(facts.metricsRoute, '/metrics');
    assert.ok(facts.queueNames.includes('transaction-worker.commands'));
  });

  for (const overlay of OVERLAYS) {
    it(`${overlay}: renders with kubectl kustomize into every kind Tally needs`, () => {
      const kinds = new Set(rendered.get(overlay)!.map((o) => o.kind));
      for (const kind of [
        'Deployment',
        'Service',
        'Ingress',
        'Job',
        'ConfigMap',
        'PodDisruptionBudget',
        'HorizontalPodAutoscaler',
        'ScaledObject',
        'NetworkPolicy',
        'ServiceMonitor',
        'PodMonitor',
        'PrometheusRule',
        'Cluster',
        'ScheduledBackup',
        'ObjectStore',
        'RabbitmqCluster',
        'User',
        'Permission',
      ])
        assert.ok(kinds.has(kind), `${overlay} renders a ${kind}`);
      const deployments = rendered.get(overlay)!.filter((o) => o.kind === 'Deployment');
      assert.deepEqual(deployments.map((d) => d.metadata.name).sort(), appNames());
    });

    it(`${overlay}: every object validates against its schema`, async () => {
      assert.deepEqual(await validateSchemas(rendered.get(overlay)!), []);
    });

    it(`${overlay}: probes, ports, env, selectors, targets and images agree with the code`, () => {
      assert.deepEqual(checkManifests(rendered.get(overlay)!, facts, dockerfile), []);
    });

    it(`${overlay}: autoscalers own their counts; the pools fit max_connections; probes fit start-up; the Job is per release`, () => {
      const objects = rendered.get(overlay)!;
      assert.deepEqual(checkOwnedReplicas(objects), []);
      const budget = connectionBudget(objects, facts);
      assert.deepEqual(budget.problems, []);
      assert.ok(budget.total > 0 && budget.perDeployment.length === 4);
      assert.deepEqual(checkProbeBudgets(objects), []);
      assert.deepEqual(checkMigrationJob(objects), []);
    });

    it(`${overlay}: the NetworkPolicies allow exactly the flows Tally needs`, () => {
      assert.deepEqual(checkNetwork(rendered.get(overlay)!), []);
    });

    it(`${overlay}: operator versions, backups, monitoring, broker users, pod security, TLS to PostgreSQL`, () => {
      const objects = rendered.get(overlay)!;
      const readme = readRepo('k8s/README.md');
      assert.deepEqual(checkOperatorVersions(objects, readme), []);
      assert.deepEqual(checkBackups(objects), []);
      assert.deepEqual(checkMonitoring(objects), []);
      assert.deepEqual(checkBrokerUsers(objects, appNames()), []);
      assert.deepEqual(checkNamespace(objects), []);
      assert.deepEqual(checkReloadLabel(objects, readme), []);
      assert.deepEqual(checkTls(objects, overlay === 'prod'), []);
      assert.deepEqual(checkPrometheusRule(objects, readRepo('docker/prometheus/alerts.yml')), []);
      assert.deepEqual(checkDashboardConfigMap(objects, readRepo('k8s/base/grafana/tally.json')), []);
    });
  }

  it('prod: placement, sizing and images by digest', () => {
    const objects = rendered.get('prod')!;
    assert.deepEqual(checkPlacementAndSizing(objects), []);
    assert.deepEqual(checkImageDigests(objects), []);
  });

  it('k8s/README.md names a minimum version for every operator', () => {
    const documented = documentedMinimums(readRepo('k8s/README.md'));
    for (const operator of [
      'CloudNativePG',
      'barman-cloud plugin',
      'RabbitMQ Cluster Operator',
      'Messaging Topology Operator',
      'KEDA',
      'Prometheus Operator',
      'Kubernetes',
    ])
      assert.ok(documented.has(operator), operator);
  });

  it('the alerting rules pass their promtool unit tests, and the Prometheus config loads them', () => {
    const dir = path.join(repoRoot, 'docker/prometheus');
    const out = execFileSync('promtool', ['test', 'rules', 'alerts.test.yml'], {
      cwd: dir,
      encoding: 'utf8',
    });
    assert.match(out, /SUCCESS/);
    execFileSync('promtool', ['check', 'config', 'prometheus.yml'], { cwd: dir, encoding: 'utf8' });
    // Every alert of the file has a test case.
    const alerts = [...readRepo('docker/prometheus/alerts.yml').matchAll(/- alert: (\w+)/g)].map((m) => m[1]);
    const tests = readRepo('docker/prometheus/alerts.test.yml');
    for (const a of alerts) assert.match(tests, new RegExp(`alertname: ${a}\n`), a);
  });

  it('compose scales the consumers; the image runs Node LTS under tini', () => {
    assert.deepEqual(checkComposeScaling(compose, readRepo('docker/prometheus/prometheus.yml')), []);
    assert.deepEqual(checkNodeRuntime(dockerfile), []);
  });

  it('dev: secrets are generated with values that say they are for development only', () => {
    const secrets = rendered.get('dev')!.filter((o) => o.kind === 'Secret');
    assert.ok(secrets.length > 0);
    for (const s of secrets)
      for (const [key, value] of Object.entries(s.data as Record<string, string>)) {
        let text = Buffer.from(value, 'base64').toString('utf8');
        // Encryption keys are base64 themselves: the bytes they stand for say it.
        if (key === 'encryption-keys') text = Buffer.from(text, 'base64').toString('utf8');
        // A URI carries its dev-only password inside.
        if (key === 'host') assert.match(text, /:dev-only-[^@]+@/, `${s.metadata.name}.${key}`);
        else if (key !== 'username' && key !== 'first-admin-email')
          assert.match(text, /^dev-only-/, `${s.metadata.name}.${key}`);
      }
  });

  it('prod: commits no Secret; every Secret it needs is documented in k8s/README.md', () => {
    assert.equal(rendered.get('prod')!.filter((o) => o.kind === 'Secret').length, 0);
    const readme = readRepo('k8s/README.md');
    for (const name of USER_SECRETS) assert.ok(readme.includes(name), `k8s/README.md explains ${name}`);
  });

  it('the Dockerfile passes the lint rules, and the image healthcheck uses each app’s port', () => {
    assert.deepEqual(lintDockerfile(dockerfile, dockerignore), []);
    const table = new Map(
      [...readRepo('docker/healthcheck.mjs').matchAll(/'?([a-z-]+)'?: \['(\w+)', (\d+)\]/g)].map((m) => [
        m[1],
        { variable: m[2], port: Number(m[3]) },
      ]),
    );
    assert.deepEqual(table, appPorts(facts));
  });

  it('docker/compose.yaml parses and refers only to services, files and build args that exist', () => {
    assert.deepEqual(checkCompose(compose, path.join(repoRoot, 'docker'), facts, dockerfile), []);
    assert.deepEqual(checkPrometheus(readRepo('docker/prometheus/prometheus.yml'), compose, facts), []);
  });

  it('the Grafana dashboard reads only series the apps declare, from the provisioned datasource', () => {
    const dashboard = JSON.parse(readRepo('k8s/base/grafana/tally.json')) as K8sObject;
    const datasource = readRepo('docker/grafana/provisioning/datasources/prometheus.yaml');
    const uid = /uid:\s*(\S+)/.exec(datasource)![1];
    for (const p of dashboard.panels as K8sObject[])
      if (p.type !== 'row') assert.equal(p.datasource?.uid, uid, `panel ${p.title}`);
    const names = new Set(dashboardExpressions(dashboard).flatMap(promqlMetricNames));
    assert.ok(names.size >= 10);
    const declared = readRepo('libs/observability/src/metrics.ts');
    for (const name of names) {
      const family = name.replace(/_(bucket|sum|count)$/, '');
      assert.ok(
        declared.includes(`'${family}'`) || /^(process|nodejs)_/.test(name),
        `${name} is declared in libs/observability/src/metrics.ts (or is a default metric)`,
      );
    }
  });
});

describe('the static checks fail on a broken copy', () => {
  let facts: AppFacts;
  let dev: K8sObject[];
  const dockerfile = readRepo('docker/Dockerfile');
  const dockerignore = readRepo('.dockerignore');

  before(async () => {
    facts = await loadAppFacts();
    dev = renderOverlay(path.join(repoRoot, 'k8s/overlays/dev'));
  });

  const problems = (mutate: (objects: K8sObject[]) => void) => {
    const copy = clone(dev);
    mutate(copy);
    return checkManifests(copy, facts, dockerfile).join('\n');
  };

  it('a readiness probe on a path the app does not serve', () => {
    assert.match(
      problems((o) => (container(o, 'gateway').readinessProbe.httpGet.path = '/healthz')),
      /Deployment\/gateway .*readinessProbe path \/healthz/,
    );
  });

  it('a liveness probe on the wrong port', () => {
    assert.match(
      problems((o) => (container(o, 'admin').livenessProbe.httpGet.port = 3000)),
      /Deployment\/admin .*livenessProbe port 3000 is not the app's port 3001/,
    );
  });

  it('a container port that is not the app’s port', () => {
    assert.match(
      problems((o) => (container(o, 'notification').ports[0].containerPort = 3002)),
      /port http is 3002 but the app listens on 3003 \(NOTIFICATION_PORT\)/,
    );
  });

  it('a Service whose selector matches no pods', () => {
    assert.match(
      problems((o) => (find(o, 'Service', 'gateway').spec.selector['app.kubernetes.io/name'] = 'gatewy')),
      /Service\/gateway: selector .* matches no pods/,
    );
  });

  it('a Service targetPort that no container has', () => {
    assert.match(
      problems((o) => (find(o, 'Service', 'admin').spec.ports[0].targetPort = 'web')),
      /Service\/admin: targetPort web is not a container port/,
    );
  });

  it('a missing required variable (derived from the app’s config)', () => {
    const out = problems((o) => {
      const c = container(o, 'transaction-worker');
      c.env = c.env.filter((e: K8sObject) => !e.name.startsWith('AMQP_'));
    });
    assert.match(out, /Deployment\/transaction-worker .*required variable AMQP_URL is not provided/);
  });

  it('a value the app’s config refuses', () => {
    const out = problems((o) => {
      o.find(
        (x) => x.kind === 'ConfigMap' && x.metadata.name.startsWith('tally-config'),
      )!.data.SHUTDOWN_GRACE_MS = 'soon';
    });
    assert.match(out, /the app's config refuses it: SHUTDOWN_GRACE_MS: must be a whole number/);
  });

  it('the admin without ADMIN_JWT_SECRET (required in production by its config)', () => {
    const out = problems((o) => {
      const c = container(o, 'admin');
      c.env = c.env.filter((e: K8sObject) => e.name !== 'ADMIN_JWT_SECRET');
    });
    assert.match(out, /Deployment\/admin .*required variable ADMIN_JWT_SECRET is not provided/);
  });

  it('a grace period shorter than preStop plus the shutdown grace', () => {
    assert.match(
      problems(
        (o) => (find(o, 'Deployment', 'gateway').spec.template.spec.terminationGracePeriodSeconds = 10),
      ),
      /terminationGracePeriodSeconds 10 < preStop 5 s \+ SHUTDOWN_GRACE_MS 25 s/,
    );
  });

  it('a NetworkPolicy, PDB, HPA, ScaledObject or ServiceMonitor aimed at nothing', () => {
    const out = problems((o) => {
      find(o, 'NetworkPolicy', 'gateway-from-ingress').spec.podSelector.matchLabels[
        'app.kubernetes.io/name'
      ] = 'gw';
      find(o, 'PodDisruptionBudget', 'admin').spec.selector.matchLabels['app.kubernetes.io/name'] = 'admn';
      find(o, 'HorizontalPodAutoscaler', 'gateway').spec.scaleTargetRef.name = 'gateway-v2';
      find(o, 'ScaledObject', 'transaction-worker').spec.triggers[0].metadata.queueName = 'worker.commands';
      find(o, 'ServiceMonitor', 'tally-apps').spec.endpoints[0].port = 'metrics';
    });
    assert.match(out, /NetworkPolicy\/gateway-from-ingress: podSelector .* selects no pods/);
    assert.match(out, /PodDisruptionBudget\/admin: selects no Deployment/);
    assert.match(out, /HorizontalPodAutoscaler\/gateway: target Deployment\/gateway-v2 does not exist/);
    assert.match(out, /ScaledObject\/transaction-worker: queue worker.commands is not in the topology/);
    assert.match(out, /ServiceMonitor\/tally-apps: Service gateway has no port named metrics/);
  });

  it('an image the Dockerfile does not build, and an unknown Secret', () => {
    const out = problems((o) => {
      container(o, 'notification').image = 'tally-notifier:dev';
      container(o, 'gateway').env.find(
        (e: K8sObject) => e.name === 'DATABASE_APP_PASSWORD',
      ).valueFrom.secretKeyRef.name = 'db-password';
    });
    assert.match(out, /image tally-notifier:dev is not one the Dockerfile builds/);
    assert.match(out, /Secret db-password is neither rendered, operator-made nor documented/);
  });

  it('an unknown field in a CloudNativePG Cluster or RabbitmqCluster, and a wrong enum', async () => {
    const copy = clone(dev);
    find(copy, 'Cluster', 'tally-postgres').spec.instance = 1;
    find(copy, 'Cluster', 'tally-postgres').spec.primaryUpdateStrategy = 'automatic';
    find(copy, 'RabbitmqCluster', 'tally-rabbitmq').spec.persistence.size = '1Gi';
    const out = (await validateSchemas(copy)).join('\n');
    assert.match(out, /Cluster\/tally-postgres: \/spec must NOT have additional properties \(instance\)/);
    assert.match(
      out,
      /Cluster\/tally-postgres: \/spec\/primaryUpdateStrategy must be equal to one of the allowed values/,
    );
    assert.match(
      out,
      /RabbitmqCluster\/tally-rabbitmq: \/spec\/persistence must NOT have additional properties \(size\)/,
    );
  });

  it('a core object with a wrong type, and a kind without a schema', async () => {
    const copy = clone(dev);
    container(copy, 'gateway').ports[0].containerPort = 'http';
    copy.push({ apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w' } });
    const out = (await validateSchemas(copy)).join('\n');
    assert.match(out, /Deployment\/gateway: .*containerPort must be integer/);
    assert.match(out, /Widget\/w: no schema for example.com\/v1 Widget/);
  });

  it('the Dockerfile rules: COPY of an ignored folder (the old bug), npm install, latest, root, no HEALTHCHECK', () => {
    const broken = dockerfile
      .replace('COPY libs ./libs', 'COPY libs ./libs\nCOPY test ./test')
      .replace('RUN npm ci --no-audit --no-fund', 'RUN npm install')
      .replace('FROM node:${NODE_VERSION}-bookworm-slim AS runtime', 'FROM node:latest AS runtime')
      .replace('USER 1000:1000', 'USER root')
      .replace(/HEALTHCHECK .*\n/, '')
      .replace('CMD ["node", "dist/main.js"]', 'CMD node dist/main.js');
    const out = lintDockerfile(broken, dockerignore).join('\n');
    assert.match(out, /COPY test: excluded by .dockerignore/);
    assert.match(out, /RUN npm install: use npm ci/);
    assert.match(out, /FROM node:latest: never "latest"/);
    assert.match(out, /the final stage runs as root/);
    assert.match(out, /the final stage has no HEALTHCHECK/);
    assert.match(out, /CMD node dist\/main.js: use the exec form/);
    assert.match(
      lintDockerfile(dockerfile.replace('COPY apps ./apps', 'COPY app ./apps'), dockerignore).join('\n'),
      /COPY app: no such file/,
    );
    assert.match(
      lintDockerfile(dockerfile.replace(/^USER .*$/m, ''), dockerignore).join('\n'),
      /sets no USER/,
    );
    assert.match(
      lintDockerfile(dockerfile.replace('COPY tsconfig.json ./', 'ADD tsconfig.json ./'), dockerignore).join(
        '\n',
      ),
      /use COPY for local files/,
    );
    assert.ok(dockerIgnored(dockerignore, 'test/unit/x.ts'));
    assert.ok(!dockerIgnored(dockerignore, 'apps/gateway/src/main.ts'));
  });

  it('compose: a missing service, a missing file, a build arg the Dockerfile lacks, a refused env', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tally-compose-'));
    try {
      cpSync(path.join(repoRoot, 'docker'), path.join(dir, 'docker'), { recursive: true });
      cpSync(path.join(repoRoot, 'docker/Dockerfile'), path.join(dir, 'docker/Dockerfile'));
      const compose = readFileSync(path.join(dir, 'docker/compose.yaml'), 'utf8')
        .replace(
          'condition: service_healthy\n',
          'condition: service_healthy\n    cache:\n      condition: service_started\n',
        )
        .replace('./prometheus:/etc', './prom:/etc')
        .replace('args: { APP: admin }', "args: { APP: admin, NODE: '20' }")
        .replace('AMQP_URL: amqp://tally:tally-dev-password@rabbitmq:5672', 'AMQP_URL: http://rabbitmq:5672');
      writeFileSync(path.join(dir, 'docker/compose.yaml'), compose);
      const out = checkCompose(compose, path.join(dir, 'docker'), facts, dockerfile).join('\n');
      assert.match(out, /depends on cache, which is not a service/);
      assert.match(out, /mounts .\/prom, which does not exist/);
      assert.match(out, /build arg NODE is not an ARG of the Dockerfile/);
      assert.match(
        out,
        /service gateway: the app's config refuses it: AMQP_URL: must be a URL with scheme amqp/,
      );
      assert.match(checkCompose('services: [', dir, facts, dockerfile).join('\n'), /does not parse/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('PromQL: metric names, not functions, labels or keywords', () => {
    assert.deepEqual(
      promqlMetricNames(
        'histogram_quantile(0.99, sum by (le, app) (rate(tally_http_request_duration_seconds_bucket{route!~"/health/.*"}[$__rate_interval]))) / on(app) group_left max by (app) (up)',
      ).sort(),
      ['tally_http_request_duration_seconds_bucket', 'up'],
    );
  });
});
