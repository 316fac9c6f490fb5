import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, it } from '@jest/globals';
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
  checkRedis,
  checkReloadLabel,
  checkTls,
  connectionBudget,
  documentedMinimums,
  redisClients,
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

  beforeAll(async () => {
    facts = await loadAppFacts();
    for (const overlay of OVERLAYS)
      rendered.set(overlay, renderOverlay(path.join(repoRoot, 'k8s/overlays', overlay)));
  });

  it('reads the facts from the code: four apps, their health routes, the metrics route and queues', () => {
    assert.deepEqual([...facts.configs.keys()].sort(), appNames());
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
        'StatefulSet',
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
      assert.deepEqual(checkNetwork(rendered.get(overlay)!, facts), []);
    });

    it(`${overlay}: Redis: one pod, no persistence, restricted, probed, pinned; each REDIS_URL leads to it`, () => {
      const objects = rendered.get(overlay)!;
      assert.deepEqual(redisClients(facts), ['admin', 'gateway', 'transaction-worker']);
      assert.deepEqual(
        checkRedis(objects, { clients: redisClients(facts), compose, readme: readRepo('k8s/README.md') }),
        [],
      );
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

  beforeAll(async () => {
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

  it('a variable no app reads (a misspelt name would otherwise do nothing)', () => {
    const out = problems((o) => {
      const config = o.find((x) => x.kind === 'ConfigMap' && x.metadata.name.startsWith('tally-config'))!;
      config.data.DATABSE_POOL_MAX = '20';
      container(o, 'gateway').env.push({ name: 'RATE_LIMIT_WRITE_BURST', value: '50' });
    });
    assert.match(out, /Deployment\/gateway container gateway: DATABSE_POOL_MAX is not a variable of any app/);
    assert.match(out, /Deployment\/admin container admin: DATABSE_POOL_MAX is not a variable of any app/);
    assert.match(out, /Deployment\/gateway .*RATE_LIMIT_WRITE_BURST is not a variable of any app/);
  });

  it('the admin without ADMIN_JWT_SECRET (required in production by its config)', () => {
    const out = problems((o) => {
      const c = container(o, 'admin');
      c.env = c.env.filter((e: K8sObject) => e.name !== 'ADMIN_JWT_SECRET');
    });
    assert.match(out, /Deployment\/admin .*required variable ADMIN_JWT_SECRET is not provided/);
  });

  it('the gateway without CUSTOMER_TOKEN_SECRET (required in production by its config)', () => {
    const out = problems((o) => {
      const c = container(o, 'gateway');
      c.env = c.env.filter((e: K8sObject) => e.name !== 'CUSTOMER_TOKEN_SECRET');
    });
    assert.match(out, /Deployment\/gateway .*required variable CUSTOMER_TOKEN_SECRET is not provided/);
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
      .replace(/USER 1000:1000(?![\s\S]*USER 1000:1000)/, 'USER root') // the final stage's
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
      lintDockerfile(dockerfile.replace(/^USER .*$(?![\s\S]*^USER )/m, ''), dockerignore).join('\n'),
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

  it('compose: a missing service, a missing file, a build arg or target the Dockerfile lacks, a refused env', () => {
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
        .replace('target: provider-simulator', 'target: simulator')
        .replace('AMQP_URL: amqp://tally:tally-dev-password@rabbitmq:5672', 'AMQP_URL: http://rabbitmq:5672')
        .replace('AMQP_URL: http://rabbitmq:5672', 'AMQP_URL: http://rabbitmq:5672\n    AMQP_PREFECTH: 10');
      writeFileSync(path.join(dir, 'docker/compose.yaml'), compose);
      const out = checkCompose(compose, path.join(dir, 'docker'), facts, dockerfile).join('\n');
      assert.match(out, /depends on cache, which is not a service/);
      assert.match(out, /mounts .\/prom, which does not exist/);
      assert.match(out, /build arg NODE is not an ARG of the Dockerfile/);
      assert.match(
        out,
        /service provider-simulator: build target simulator is not a stage of the Dockerfile/,
      );
      assert.match(
        out,
        /service gateway: the app's config refuses it: AMQP_URL: must be a URL with scheme amqp/,
      );
      assert.match(out, /service gateway: AMQP_PREFECTH is not a variable of any app/);
      assert.match(checkCompose('services: [', dir, facts, dockerfile).join('\n'), /does not parse/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  describe('production checks (issue 23)', () => {
    let prod: K8sObject[];
    beforeAll(() => {
      prod = renderOverlay(path.join(repoRoot, 'k8s/overlays/prod'));
    });
    const broken = (objects: K8sObject[], mutate: (o: K8sObject[]) => void) => {
      const copy = clone(objects);
      mutate(copy);
      return copy;
    };
    const readme = readRepo('k8s/README.md');

    it('replicas on a Deployment an autoscaler owns', () => {
      const out = checkOwnedReplicas(
        broken(dev, (o) => (find(o, 'Deployment', 'gateway').spec.replicas = 2)),
      );
      assert.match(out.join('\n'), /Deployment\/gateway: sets spec.replicas although its HPA owns the count/);
    });

    it('the connection budget: the old max_connections 200, or a bigger pool', () => {
      const low = connectionBudget(
        broken(
          prod,
          (o) => (find(o, 'Cluster', 'tally-postgres').spec.postgresql.parameters.max_connections = '200'),
        ),
        facts,
      );
      assert.match(low.problems.join('\n'), /= 269 > max_connections 200 − 10 reserved/);
      const pool = connectionBudget(
        broken(prod, (o) =>
          container(o, 'admin').env.splice(0, 1, { name: 'DATABASE_POOL_MAX', value: '60' }),
        ),
        facts,
      );
      assert.match(pool.problems.join('\n'), /admin 2×60/);
    });

    it('probes: a startup probe on readiness, or shorter than the database wait', () => {
      const out = checkProbeBudgets(
        broken(dev, (o) => {
          container(o, 'transaction-worker').startupProbe.httpGet.path = '/health/ready';
          container(o, 'gateway').startupProbe.failureThreshold = 5;
        }),
      ).join('\n');
      assert.match(out, /transaction-worker: startupProbe on \/health\/ready, which waits for the broker/);
      assert.match(
        out,
        /gateway: startupProbe allows 10 s, less than the database connect timeout \+ bootstrap \(30 s\)/,
      );
    });

    it('a migration Job named the same for every release', () => {
      const out = checkMigrationJob(
        broken(prod, (o) => (o.find((x) => x.kind === 'Job')!.metadata.name = 'tally-migrate')),
      );
      assert.match(out.join('\n'), /Job\/tally-migrate: its name does not carry the release 0.1.0/);
    });

    it('NetworkPolicies: DNS for kube-dns only, webhooks on 443 only, and a policy that opens too much', () => {
      const dnsOnly = checkNetwork(
        broken(dev, (o) => {
          find(o, 'NetworkPolicy', 'allow-dns').spec.egress = [
            {
              to: [
                {
                  namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } },
                  podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } },
                },
              ],
              ports: [
                { protocol: 'UDP', port: 53 },
                { protocol: 'TCP', port: 53 },
              ],
            },
          ];
        }),
        facts,
      ).join('\n');
      assert.match(dnsOnly, /needed but blocked: gateway -> nodelocal-dns:53\/UDP/);
      assert.match(dnsOnly, /needed but blocked: postgres -> openshift-dns:5353\/UDP/);
      const https = checkNetwork(
        broken(dev, (o) => {
          const rule = find(o, 'NetworkPolicy', 'notification-to-internet').spec.egress[0];
          rule.to = [rule.to[0]];
          rule.ports = [{ protocol: 'TCP', port: 443 }];
        }),
        facts,
      ).join('\n');
      assert.match(https, /needed but blocked: notification -> internet-v4:8443\/TCP/);
      assert.match(https, /needed but blocked: notification -> internet-v6:443\/TCP/);
      const open = checkNetwork(
        broken(dev, (o) =>
          o.push({
            apiVersion: 'networking.k8s.io/v1',
            kind: 'NetworkPolicy',
            metadata: { name: 'allow-all-egress' },
            spec: { podSelector: {}, policyTypes: ['Egress'], egress: [{}] },
          }),
        ),
        facts,
      ).join('\n');
      assert.match(open, /allowed but not needed: gateway -> internet-v4:443\/TCP/);
      assert.match(open, /allowed but not needed: migrate-job -> cloud-metadata:80\/TCP/);
    });

    it('operator versions: KEDA username/password with KEDA 2.15 documented, CloudNativePG 1.28.2', () => {
      const usernames = broken(prod, (o) => {
        find(o, 'TriggerAuthentication', 'tally-rabbitmq').spec.secretTargetRef = [
          { parameter: 'username', name: 'tally-keda-rabbitmq', key: 'username' },
          { parameter: 'password', name: 'tally-keda-rabbitmq', key: 'password' },
        ];
      });
      const old = readme
        .replace(/\| KEDA(\s+)\| 2\.10\.0(\s*)\|/, '| KEDA$1| 2.15.0$2|')
        .replace(/\| CloudNativePG(\s+)\| 1\.29\.2(\s*)\|/, '| CloudNativePG$1| 1.28.2$2|');
      const out = checkOperatorVersions(usernames, old).join('\n');
      assert.match(out, /KEDA 2.16.0 or later is needed \(rabbitmq scaler username\/password parameters/);
      assert.match(out, /CloudNativePG 1.29.2 or later is needed \(metrics exporter privilege escalation/);
    });

    it('monitoring: no release label, enablePodMonitor, no PodMonitor', () => {
      const out = checkMonitoring(
        broken(dev, (o) => {
          delete find(o, 'ServiceMonitor', 'tally-apps').metadata.labels.release;
          find(o, 'Cluster', 'tally-postgres').spec.monitoring.enablePodMonitor = true;
          o.splice(o.indexOf(find(o, 'PodMonitor', 'tally-postgres')), 1);
        }),
      ).join('\n');
      assert.match(out, /ServiceMonitor\/tally-apps: no label release=kube-prometheus-stack/);
      assert.match(out, /enablePodMonitor is deprecated/);
      assert.match(out, /no PodMonitor selects its pods/);
    });

    it('backups: no WAL archiving, a ScheduledBackup not through the plugin', () => {
      const out = checkBackups(
        broken(dev, (o) => {
          delete find(o, 'Cluster', 'tally-postgres').spec.plugins;
          find(o, 'ScheduledBackup', 'tally-postgres-nightly').spec.method = 'barmanObjectStore';
        }),
      ).join('\n');
      assert.match(out, /WAL is not archived/);
      assert.match(out, /method must be plugin/);
    });

    it('broker users: the default user, a permission on everything, KEDA allowed to write', () => {
      const out = checkBrokerUsers(
        broken(dev, (o) => {
          const user = container(o, 'admin').env.find((e: K8sObject) => e.name === 'AMQP_USER');
          user.valueFrom.secretKeyRef.name = 'tally-rabbitmq-default-user';
          find(o, 'Permission', 'tally-gateway').spec.permissions.read = '.*';
          find(o, 'Permission', 'tally-notification').spec.permissions.write = '^tally\\.commands$';
          find(o, 'Permission', 'tally-keda').spec.permissions.write = '.*';
        }),
        appNames(),
      ).join('\n');
      assert.match(out, /Deployment\/admin: does not connect as a User of its own/);
      assert.match(out, /Permission\/tally-gateway: read also allows other.queue/);
      assert.match(out, /Permission\/tally-notification: write does not cover tally.events/);
      assert.match(out, /Permission\/tally-keda: KEDA must be read-only/);
    });

    it('pod security, the cnpg.io/reload label, TLS, placement, sizing and digests', () => {
      assert.match(
        checkNamespace(broken(prod, (o) => delete find(o, 'Namespace', 'tally').metadata.labels)).join('\n'),
        /not labelled for the restricted Pod Security Standard/,
      );
      assert.match(
        checkReloadLabel(
          broken(dev, (o) => delete find(o, 'Secret', 'tally-db-app').metadata.labels),
          readme,
        ).join('\n'),
        /Secret\/tally-db-app: no cnpg.io\/reload label/,
      );
      assert.match(
        checkReloadLabel(prod, readme.replace('label secret tally-db-app', 'x')).join('\n'),
        /does not label tally-db-app/,
      );
      const tls = checkTls(
        broken(prod, (o) => {
          const env = container(o, 'gateway').env.find((e: K8sObject) => e.name === 'DATABASE_URL');
          env.value = env.value.replace('verify-full', 'require');
          find(
            o,
            'ConfigMap',
            o.find((x) => x.kind === 'ConfigMap' && x.data?.AMQP_SCHEME)!.metadata.name,
          ).data.AMQP_SCHEME = 'amqp';
        }),
        true,
      ).join('\n');
      assert.match(tls, /Deployment\/gateway container gateway: DATABASE_URL without sslmode=verify-full/);
      assert.match(tls, /AMQP_URL is not amqps on 5671/);
      const placement = checkPlacementAndSizing(
        broken(prod, (o) => {
          find(o, 'Deployment', 'admin').spec.template.spec.topologySpreadConstraints[0].whenUnsatisfiable =
            'ScheduleAnyway';
          find(o, 'Cluster', 'tally-postgres').spec.affinity.podAntiAffinityType = 'preferred';
          find(o, 'Cluster', 'tally-postgres').spec.resources.limits.memory = '32Gi';
          o.splice(o.indexOf(find(o, 'PodDisruptionBudget', 'tally-rabbitmq')), 1);
        }),
      ).join('\n');
      assert.match(placement, /Deployment\/admin: pods not spread over zones/);
      assert.match(placement, /Cluster\/tally-postgres: instances may share a node/);
      assert.match(placement, /Cluster\/tally-postgres: requests differ from limits/);
      assert.match(placement, /RabbitmqCluster\/tally-rabbitmq: no PodDisruptionBudget/);
      assert.match(
        checkImageDigests(
          broken(
            prod,
            (o) => (container(o, 'gateway').image = 'registry.example.com/tally/tally-gateway:0.1.0'),
          ),
        ).join('\n'),
        /tally-gateway:0.1.0 is not referenced by digest/,
      );
    });

    it('alerts: a PrometheusRule out of step with alerts.yml, a rule promtool’s tests catch, no dashboard ConfigMap', () => {
      const alerts = readRepo('docker/prometheus/alerts.yml');
      assert.match(
        checkPrometheusRule(
          dev,
          alerts.replace(
            'tally_outbox_oldest_unpublished_age_seconds) > 60',
            'tally_outbox_oldest_unpublished_age_seconds) > 600',
          ),
        ).join('\n'),
        /PrometheusRule\/tally differs/,
      );
      const dir = mkdtempSync(path.join(tmpdir(), 'tally-alerts-'));
      try {
        cpSync(path.join(repoRoot, 'docker/prometheus'), dir, { recursive: true });
        writeFileSync(
          path.join(dir, 'alerts.yml'),
          alerts.replace(
            'max(tally_outbox_oldest_unpublished_age_seconds) > 60',
            'max(tally_outbox_oldest_unpublished_age_seconds) > 600',
          ),
        );
        assert.throws(
          () =>
            execFileSync('promtool', ['test', 'rules', 'alerts.test.yml'], {
              cwd: dir,
              encoding: 'utf8',
              stdio: 'pipe',
            }),
          (error: Error & { stdout?: string; stderr?: string }) =>
            /alertname: TallyOutboxStuck/.test(`${error.stdout}${error.stderr}`),
        );
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
      assert.match(
        checkDashboardConfigMap(
          broken(dev, (o) => delete find(o, 'ConfigMap', 'tally-grafana-dashboard').metadata.labels),
          '{}',
        ).join('\n'),
        /no ConfigMap labelled grafana_dashboard/,
      );
    });

    describe('Redis', () => {
      const redis = (o: K8sObject[]) => find(o, 'StatefulSet', 'tally-redis');
      const redisContainer = (o: K8sObject[]) => redis(o).spec.template.spec.containers[0];
      const inputs = () => ({
        clients: redisClients(facts),
        compose: readRepo('docker/compose.yaml'),
        readme,
      });
      const withArg = (o: K8sObject[], flag: string, value: string) => {
        const args = redisContainer(o).args as string[];
        args[args.indexOf(flag) + 1] = value;
      };

      it('the network: no path from the gateway, one for the notification app, and it reading REDIS_URL', () => {
        const blocked = checkNetwork(
          broken(dev, (o) => o.splice(o.indexOf(find(o, 'NetworkPolicy', 'apps-to-redis')), 1)),
          facts,
        ).join('\n');
        assert.match(blocked, /needed but blocked: gateway -> redis:6379\/TCP/);
        assert.match(blocked, /needed but blocked: admin -> redis:6379\/TCP/);
        assert.match(blocked, /needed but blocked: transaction-worker -> redis:6379\/TCP/);
        const notification = checkNetwork(
          broken(dev, (o) => {
            find(o, 'NetworkPolicy', 'apps-to-redis').spec.podSelector.matchExpressions[0].values.push(
              'notification',
            );
            find(
              o,
              'NetworkPolicy',
              'redis',
            ).spec.ingress[0].from[0].podSelector.matchExpressions[0].values.push('notification');
          }),
          facts,
        ).join('\n');
        assert.match(notification, /allowed but not needed: notification -> redis:6379\/TCP/);
        // The day the notification app's config reads REDIS_URL, the model needs the flow (and checkRedis the URL).
        const reading: AppFacts = {
          ...facts,
          configs: new Map(
            [...facts.configs].map(([app, config]) => [
              app,
              app === 'notification'
                ? Object.assign(Object.create(config) as typeof config, {
                    variables: [...config.variables, 'REDIS_URL'],
                  })
                : config,
            ]),
          ),
        };
        assert.match(
          checkNetwork(dev, reading).join('\n'),
          /needed but blocked: notification -> redis:6379\/TCP/,
        );
        assert.match(
          checkRedis(dev, { ...inputs(), clients: redisClients(reading) }).join('\n'),
          /Deployment\/notification container notification: its config reads REDIS_URL but none is given/,
        );
        const open = checkNetwork(
          broken(dev, (o) => delete find(o, 'NetworkPolicy', 'redis').spec.ingress[0].from),
          facts,
        ).join('\n');
        assert.match(open, /allowed but not needed: other-namespace -> redis:6379\/TCP/);
        assert.match(open, /allowed but not needed: ingress-nginx -> redis:6379\/TCP/);
      });

      it('REDIS_URL: a host no Service serves, a password in the manifest, none given, another Secret', () => {
        const out = checkRedis(
          broken(prod, (o) => {
            const url = (app: string) => container(o, app).env.find((e: K8sObject) => e.name === 'REDIS_URL');
            url('gateway').value = 'redis://:$(REDIS_PASSWORD)@tally-cache:6379';
            url('admin').value = 'redis://:hunter2hunter2@tally-redis.tally.svc:6380';
            container(o, 'notification').env.push({ name: 'REDIS_URL', value: 'redis://tally-redis:6379' });
          }),
          inputs(),
        ).join('\n');
        assert.match(
          out,
          /Deployment\/gateway container gateway: REDIS_URL points at tally-cache, which no Service serves/,
        );
        assert.match(
          out,
          /Deployment\/admin container admin: REDIS_URL carries a password written in the manifest/,
        );
        assert.match(
          out,
          /Deployment\/admin container admin: REDIS_URL port 6380 is not a port of Service tally-redis/,
        );
        assert.match(
          out,
          /Deployment\/notification container notification: sets REDIS_URL, which its config does not read/,
        );
        assert.match(
          out,
          /Deployment\/notification container notification: REDIS_URL has no password from a Secret/,
        );
        const missing = checkRedis(
          broken(dev, (o) => {
            const c = container(o, 'gateway');
            c.env = c.env.filter((e: K8sObject) => e.name !== 'REDIS_URL');
            find(o, 'Service', 'tally-redis').spec.selector = { 'app.kubernetes.io/name': 'redis' };
            container(o, 'admin').env.find(
              (e: K8sObject) => e.name === 'REDIS_PASSWORD',
            ).valueFrom.secretKeyRef.name = 'tally-admin';
          }),
          inputs(),
        ).join('\n');
        assert.match(
          missing,
          /Deployment\/gateway container gateway: its config reads REDIS_URL but none is given/,
        );
        assert.match(missing, /REDIS_URL points at Service tally-redis, which selects no Redis/);
        assert.match(
          missing,
          /Deployment\/admin container admin: REDIS_URL's password is tally-admin\/password, but Redis requires tally-redis\/password/,
        );
      });

      it('the workload: two pods, persistence, no password, root, writable, probes, memory, PDB, image', () => {
        const out = checkRedis(
          broken(prod, (o) => {
            redis(o).spec.replicas = 2;
            withArg(o, '--appendonly', 'yes');
            withArg(o, '--requirepass', 'hunter2hunter2');
            withArg(o, '--maxmemory', '512mb');
            const c = redisContainer(o);
            c.securityContext.readOnlyRootFilesystem = false;
            c.securityContext.capabilities = { add: ['NET_ADMIN'] };
            redis(o).spec.template.spec.securityContext.runAsUser = 0;
            delete redis(o).spec.template.spec.automountServiceAccountToken;
            c.volumeMounts = [];
            delete c.livenessProbe;
            c.env = c.env.filter((e: K8sObject) => e.name !== 'REDISCLI_AUTH');
            c.image = 'redis:latest';
            o.splice(o.indexOf(find(o, 'PodDisruptionBudget', 'tally-redis')), 1);
          }),
          inputs(),
        ).join('\n');
        assert.match(out, /StatefulSet\/tally-redis: Redis must be a StatefulSet of one pod/);
        assert.match(out, /Redis persists \(a cache: --save "" --appendonly no\)/);
        assert.match(out, /no password from a Secret \(--requirepass \$\(VAR\)/);
        assert.match(out, /--maxmemory 512mb is not below the memory limit 256Mi/);
        assert.match(out, /must run as non-root/);
        assert.match(out, /capabilities must drop ALL and add none/);
        assert.match(out, /readOnlyRootFilesystem must be true/);
        assert.match(out, /needs an emptyDir at \/data/);
        assert.match(out, /automountServiceAccountToken must be false/);
        assert.match(out, /no livenessProbe/);
        assert.match(out, /readinessProbe runs redis-cli without the password \(REDISCLI_AUTH\): NOAUTH/);
        assert.match(out, /StatefulSet\/tally-redis: no PodDisruptionBudget/);
        assert.match(out, /image redis:latest is not pinned to a release \(x.y.z\) or a digest/);
        assert.match(out, /image redis:latest, but docker\/compose.yaml runs redis:7.2.11-bookworm/);
        const old = checkRedis(
          broken(prod, (o) => (redisContainer(o).image = 'redis:7.2.5-bookworm')),
          inputs(),
        ).join('\n');
        assert.match(old, /Redis 7.2.11 or later is needed \(the Lua use-after-free CVE-2025-49844/);
      });

      it('the Secret undocumented, and a PDB that blocks every drain', () => {
        const undocumented = readme.replace(/^\| `tally-redis` .*\n/m, '');
        assert.notEqual(undocumented, readme);
        assert.match(
          checkRedis(prod, { ...inputs(), readme: undocumented }).join('\n'),
          /the Secret tally-redis \(key password\) is not in k8s\/README.md's table of Secrets to create/,
        );
        assert.match(
          checkManifests(
            broken(dev, (o) => {
              const pdb = find(o, 'PodDisruptionBudget', 'tally-redis');
              delete pdb.spec.maxUnavailable;
              pdb.spec.minAvailable = 1;
            }),
            facts,
            dockerfile,
          ).join('\n'),
          /PodDisruptionBudget\/tally-redis: minAvailable blocks every eviction of tally-redis/,
        );
      });
    });

    it('compose and image: a fixed port on a consumer, a static target, pg_isready without -h, no hostname, Node 20, no tini', () => {
      const compose = readRepo('docker/compose.yaml')
        .replace(
          'args: { APP: transaction-worker } }',
          "args: { APP: transaction-worker } }\n    ports: ['3002:3002']",
        )
        .replace("'pg_isready', '-h', '127.0.0.1',", "'pg_isready',")
        .replace(/^ {4}hostname: rabbitmq\n/m, '');
      const prom =
        readRepo('docker/prometheus/prometheus.yml').replace(
          '      - { names: [notification], type: A, port: 3003, refresh_interval: 15s }\n',
          '',
        ) + "  - job_name: static\n    static_configs:\n      - targets: ['notification:3003']\n";
      const out = checkComposeScaling(compose, prom).join('\n');
      assert.match(out, /service transaction-worker: fixed host port "3002:3002"/);
      assert.match(out, /prometheus: notification is not found by DNS service discovery/);
      assert.match(out, /prometheus: notification is a static target/);
      assert.match(out, /pg_isready without -h/);
      assert.match(out, /service rabbitmq: no fixed hostname/);
      const node = checkNodeRuntime(
        dockerfile
          .replace(/^ARG NODE_VERSION=.*$/m, 'ARG NODE_VERSION=20.20.2')
          .replace(/^ENTRYPOINT .*\n/m, ''),
      ).join('\n');
      assert.match(node, /NODE_VERSION 20: not a supported LTS line/);
      assert.match(node, /does not run tini as PID 1/);
    });
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
