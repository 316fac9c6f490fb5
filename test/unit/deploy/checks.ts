/**
 * Static checks of what ships the apps: the Kubernetes manifests (k8s/), the image recipe
 * (docker/Dockerfile, .dockerignore) and the local stack (docker/compose.yaml and its files).
 * Every check is a function of its inputs (rendered objects, file texts) and returns the
 * problems it found, so the tests can run it on the real files and on broken copies alike.
 *
 * The facts the manifests must agree with come from the apps' code, not from a copy of it:
 * the environment each app validates (its config class and #config), the health and metrics
 * routes (the controllers' route metadata), the queue names (#messaging), the apps (apps/).
 */
import 'reflect-metadata';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { Ajv } from 'ajv';
import { DockerfileParser, type Instruction } from 'dockerfile-ast';
import { parseAllDocuments, parse as parseYaml } from 'yaml';
import {
  ConfigError,
  databaseEnv,
  envClass,
  loadEnv,
  migrationEnv,
  type EnvClass,
  type EnvShape,
} from '#config';
import { Queues } from '#messaging';
import { HealthController } from '#observability';
import { repoRoot } from '../../support/app-process.js';
import { controllerRoutes } from '../../support/routes.js';

/* eslint-disable @typescript-eslint/no-explicit-any -- manifests are untyped YAML */
export type K8sObject = Record<string, any>;

// ---------------------------------------------------------------------------------------------
// Facts from the code

export interface AppFacts {
  /** App name → the class its config is validated with (variables, production-required, port). */
  configs: Map<string, EnvClass>;
  /** Every variable some app or the migrate command reads. */
  variables: Set<string>;
  /** Routes of the health controller: /health/live, /health/ready. */
  healthRoutes: string[];
  metricsRoute: string;
  queueNames: string[];
}

/** The apps (folders of apps/ with a main), each app's config class, routes and queues. */
export async function loadAppFacts(): Promise<AppFacts> {
  const configs = new Map<string, EnvClass>();
  for (const app of appNames()) {
    const mod = (await import(path.join(repoRoot, 'dist/apps', app, 'src/config.js'))) as Record<
      string,
      unknown
    >;
    const found = Object.entries(mod).filter(([name, value]) => name.endsWith('Env') && isEnvClass(value));
    if (found.length !== 1)
      throw new Error(`apps/${app}/src/config.ts should export exactly one *Env config class`);
    configs.set(app, found[0][1] as EnvClass);
  }
  const metrics = (await import(
    path.join(repoRoot, 'dist/libs/observability/src/metrics.controller.js')
  )) as {
    MetricsController: new (...args: never[]) => unknown;
  };
  return {
    configs,
    variables: new Set([...configs.values(), envClass(migrationEnv)].flatMap((c) => c.variables)),
    healthRoutes: controllerRoutes(HealthController).map((r) => r.path),
    metricsRoute: controllerRoutes(metrics.MetricsController)[0].path,
    queueNames: Object.values(Queues).map((q) => q.name),
  };
}

function isEnvClass(value: unknown): value is EnvClass {
  return typeof value === 'function' && Array.isArray((value as Partial<EnvClass>).variables);
}

/**
 * Variables a deployment may set that no config class names: read by Node itself or by the
 * image's entrypoint, not by the apps.
 */
const RUNTIME_VARIABLES = new Set([
  'NODE_OPTIONS',
  'NODE_EXTRA_CA_CERTS',
  'TZ',
  'PATH',
  'HOME',
  'UV_THREADPOOL_SIZE',
]);

/**
 * Variables set in `env` that no app reads (a misspelt or retired name does nothing silently);
 * a variable the container's env composes others from (`$(NAME)`) is read that way.
 */
function unknownVariables(env: Record<string, string>, facts: AppFacts, container?: K8sObject): string[] {
  const composedFrom = new Set(
    ((container?.env ?? []) as K8sObject[]).flatMap((e) =>
      [...String(e.value ?? '').matchAll(/\$\((\w+)\)/g)].map((m) => m[1]),
    ),
  );
  return Object.keys(env)
    .filter((name) => !facts.variables.has(name) && !RUNTIME_VARIABLES.has(name) && !composedFrom.has(name))
    .map((name) => `${name} is not a variable of any app`);
}

export function appNames(): string[] {
  return readdirSync(path.join(repoRoot, 'apps'))
    .filter((d) => existsSync(path.join(repoRoot, 'apps', d, 'src/main.ts')))
    .sort();
}

// ---------------------------------------------------------------------------------------------
// Rendering and schemas

export function renderOverlay(dir: string): K8sObject[] {
  const out = execFileSync('kubectl', ['kustomize', dir], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return parseAllDocuments(out)
    .map((d) => d.toJSON() as K8sObject)
    .filter(Boolean);
}

const SCHEMA_DIR = path.join(repoRoot, 'k8s/schemas');
/** Where each API group's models come from; anything else needs a schema in k8s/schemas. */
const MODEL_PACKAGES: [RegExp, (group: string, version: string) => string][] = [
  [/^$/, (_g, v) => `kubernetes-models/${v}`],
  [
    /^(apps|batch|policy|autoscaling|networking\.k8s\.io|rbac\.authorization\.k8s\.io|storage\.k8s\.io|scheduling\.k8s\.io|coordination\.k8s\.io|discovery\.k8s\.io)$/,
    (g, v) => `kubernetes-models/${g}/${v}`,
  ],
  [/^keda\.sh$/, (g, v) => `@kubernetes-models/keda/${g}/${v}`],
  [/^monitoring\.coreos\.com$/, (g, v) => `@kubernetes-models/prometheus-operator/${g}/${v}`],
];

const ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true });
ajv.addFormat('int32', true);
ajv.addFormat('int64', true);
ajv.addFormat('date-time', /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/);
const crdValidators = new Map<string, ReturnType<typeof ajv.compile>>();

/** Validates every object against its schema; an apiVersion/kind without one is a problem. */
export async function validateSchemas(objects: K8sObject[], schemaDir = SCHEMA_DIR): Promise<string[]> {
  const problems: string[] = [];
  for (const original of objects) {
    // Kustomize wraps long base64 values of a Secret; the API server ignores the line breaks.
    const obj =
      original.kind === 'Secret' && original.data
        ? {
            ...original,
            data: Object.fromEntries(
              Object.entries(original.data as Record<string, string>).map(([k, v]) => [
                k,
                v.replace(/\s/g, ''),
              ]),
            ),
          }
        : original;
    const id = `${obj.kind}/${obj.metadata?.name}`;
    const [group, version] = String(obj.apiVersion).includes('/')
      ? String(obj.apiVersion).split('/')
      : ['', String(obj.apiVersion)];
    const source = MODEL_PACKAGES.find(([re]) => re.test(group));
    if (source) {
      type Model = new (data: K8sObject) => { validate(): void };
      let model: Model | undefined;
      try {
        model = ((await import(source[1](group, version))) as Record<string, Model | undefined>)[obj.kind];
      } catch {
        model = undefined;
      }
      if (!model) {
        problems.push(`${id}: no schema for ${obj.apiVersion} ${obj.kind}`);
        continue;
      }
      try {
        new model(obj).validate();
      } catch (error) {
        problems.push(`${id}: ${(error as Error).message}`);
      }
      continue;
    }
    const file = path.join(schemaDir, `${group}_${version}_${String(obj.kind).toLowerCase()}.json`);
    if (!existsSync(file)) {
      problems.push(`${id}: no schema for ${obj.apiVersion} ${obj.kind}`);
      continue;
    }
    let validate = crdValidators.get(file);
    if (!validate) {
      const schema = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
      delete schema.$schema;
      validate = ajv.compile(schema);
      crdValidators.set(file, validate);
    }
    if (!validate(obj)) {
      for (const e of validate.errors ?? []) {
        const extra = e.keyword === 'additionalProperties' ? ` (${String(e.params.additionalProperty)})` : '';
        problems.push(`${id}: ${e.instancePath || '/'} ${e.message}${extra}`);
      }
    }
  }
  return problems;
}

// ---------------------------------------------------------------------------------------------
// Cross-checks between the manifests and the code

/** Secrets the operator (not these manifests) creates, and those documented in k8s/README.md. */
export const USER_SECRETS = [
  'tally-db-app',
  'tally-admin',
  'tally-gateway',
  'tally-webhooks',
  'tally-smtp',
  'tally-tls',
  'tally-keda-rabbitmq',
  'tally-backup-s3',
  'tally-rabbitmq-tls',
  'tally-redis',
  'tally-payout-provider',
];

/** Keys of user-made Secrets whose values must have a shape (sample values of that shape). */
const USER_SECRET_SAMPLES: Record<string, Record<string, string>> = {
  // WEBHOOK_ENCRYPTION_KEYS: 32-byte keys, base64
  'tally-webhooks': { 'encryption-keys': Buffer.alloc(32, 7).toString('base64') },
};

interface PodTemplate {
  owner: string;
  labels: Record<string, string>;
  ports: { name?: string; port: number }[];
  containers: K8sObject[];
}

/** Pods, Services and Secrets that the operators make from a Cluster / RabbitmqCluster. */
function operatorObjects(objects: K8sObject[]) {
  const pods: PodTemplate[] = [];
  const services: {
    name: string;
    labels: Record<string, string>;
    ports: { name?: string; port: number }[];
  }[] = [];
  /** Secret name → its keys with a value of the shape the operator writes. */
  const secrets = new Map<string, Record<string, string>>();
  for (const o of objects) {
    const name = o.metadata?.name as string;
    if (o.kind === 'Cluster' && String(o.apiVersion).startsWith('postgresql.cnpg.io/')) {
      pods.push({
        owner: `Cluster/${name}`,
        labels: { 'cnpg.io/cluster': name },
        ports: [
          { name: 'postgresql', port: 5432 },
          { name: 'status', port: 8000 },
          { name: 'metrics', port: 9187 },
        ],
        containers: [],
      });
      for (const suffix of ['rw', 'ro', 'r'])
        services.push({
          name: `${name}-${suffix}`,
          labels: { 'cnpg.io/cluster': name },
          ports: [{ port: 5432 }],
        });
      const db = o.spec?.bootstrap?.initdb?.database ?? 'app';
      const owner = o.spec?.bootstrap?.initdb?.owner ?? db;
      secrets.set(`${name}-app`, {
        username: owner,
        password: 'operator-generated',
        host: `${name}-rw`,
        port: '5432',
        dbname: db,
        uri: `postgresql://${owner}:operator-generated@${name}-rw:5432/${db}`,
        'jdbc-uri': `jdbc:postgresql://${name}-rw:5432/${db}`,
        pgpass: '',
      });
      secrets.set(`${name}-ca`, { 'ca.crt': 'operator-generated', 'ca.key': 'operator-generated' });
    }
    // Messaging Topology Operator: a User without imported credentials gets <name>-user-credentials.
    if (
      o.kind === 'User' &&
      String(o.apiVersion).startsWith('rabbitmq.com/') &&
      !o.spec?.importCredentialsSecret
    )
      secrets.set(`${name}-user-credentials`, {
        username: 'operator-generated',
        password: 'operator-generated',
      });
    if (o.kind === 'RabbitmqCluster') {
      const labels = {
        'app.kubernetes.io/name': name,
        'app.kubernetes.io/component': 'rabbitmq',
        'app.kubernetes.io/part-of': 'rabbitmq',
      };
      const ports = [
        { name: 'amqp', port: 5672 },
        ...(o.spec?.tls?.secretName ? [{ name: 'amqps', port: 5671 }] : []),
        { name: 'management', port: 15672 },
        { name: 'prometheus', port: 15692 },
      ];
      // Pods also listen for clustering (epmd, inter-node links).
      pods.push({
        owner: `RabbitmqCluster/${name}`,
        labels,
        ports: [...ports, { name: 'epmd', port: 4369 }, { name: 'cluster-links', port: 25672 }],
        containers: [],
      });
      services.push({ name, labels, ports });
      secrets.set(`${name}-default-user`, {
        username: 'operator-generated',
        password: 'operator-generated',
        host: `${name}.svc`,
        port: '5672',
      });
    }
  }
  return { pods, services, secrets };
}

function podTemplates(objects: K8sObject[]): PodTemplate[] {
  return objects
    .filter((o) => o.kind === 'Deployment' || o.kind === 'Job' || o.kind === 'StatefulSet')
    .map((o) => {
      const spec = o.spec?.template?.spec ?? {};
      const containers = (spec.containers ?? []) as K8sObject[];
      return {
        owner: `${o.kind}/${o.metadata.name}`,
        labels: o.spec?.template?.metadata?.labels ?? {},
        ports: containers.flatMap((c) =>
          (c.ports ?? []).map((p: K8sObject) => ({ name: p.name, port: p.containerPort })),
        ),
        containers,
      };
    });
}

/** A LabelSelector (matchLabels + matchExpressions) or a plain map (Service selector). */
function matches(selector: K8sObject | undefined, labels: Record<string, string>): boolean {
  if (!selector) return false;
  const plain = !('matchLabels' in selector) && !('matchExpressions' in selector);
  const matchLabels: Record<string, string> = plain ? selector : (selector.matchLabels ?? {});
  if (Object.entries(matchLabels).some(([k, v]) => labels[k] !== v)) return false;
  for (const e of (plain ? [] : (selector.matchExpressions ?? [])) as K8sObject[]) {
    const has = e.key in labels;
    if (e.operator === 'In' && !(has && e.values.includes(labels[e.key]))) return false;
    if (e.operator === 'NotIn' && has && e.values.includes(labels[e.key])) return false;
    if (e.operator === 'Exists' && !has) return false;
    if (e.operator === 'DoesNotExist' && has) return false;
  }
  return true;
}

const isEmptySelector = (s: K8sObject | undefined) =>
  !!s && Object.keys(s.matchLabels ?? {}).length === 0 && (s.matchExpressions ?? []).length === 0;

/** The app an image is built for: tally-<app>, with or without registry and tag. */
export function appOfImage(image: string): string | undefined {
  return /(?:^|\/)tally-([a-z0-9-]+?)(?::[^/]*)?(?:@.*)?$/.exec(image)?.[1];
}

/** ENV of the Dockerfile's final stage (what every container starts with). */
export function imageEnv(dockerfile: string): Record<string, string> {
  const stages = stagesOf(dockerfile);
  const env: Record<string, string> = {};
  for (const i of stages[stages.length - 1]?.instructions ?? []) {
    if (i.getKeyword() !== 'ENV') continue;
    for (const p of (
      i as unknown as { getProperties(): { getName(): string; getValue(): string | null }[] }
    ).getProperties())
      env[p.getName()] = p.getValue() ?? '';
  }
  // ${APP} and the like are build arguments; they do not matter to the apps' config.
  return Object.fromEntries(Object.entries(env).filter(([, v]) => !v.includes('$')));
}

const placeholder = (name: string, key: string) =>
  `fromsecret${`${name}${key}`.replace(/[^a-zA-Z0-9]/g, '')}`.padEnd(40, '0');

interface ResolvedEnv {
  values: Record<string, string>;
  /** Values that come from Secrets (placeholders), not from the manifests. */
  fromSecrets: Set<string>;
  problems: string[];
}

/** The environment a container gets: image ENV, envFrom, env (with $(VAR) expansion). */
function resolveEnv(
  container: K8sObject,
  objects: K8sObject[],
  baseEnv: Record<string, string>,
  knownSecrets: Map<string, Record<string, string> | undefined>,
): ResolvedEnv {
  const values: Record<string, string> = { ...baseEnv };
  const fromSecrets = new Set<string>();
  const problems: string[] = [];
  const configMap = (name: string) => objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === name);
  /** The Secret's keys with sample values; undefined: keys not known; null: no such Secret. */
  const secretKeys = (name: string): Record<string, string> | undefined | null => {
    const rendered = objects.find((o) => o.kind === 'Secret' && o.metadata.name === name);
    if (rendered) {
      const data = Object.fromEntries(
        Object.entries((rendered.data ?? {}) as Record<string, string>).map(([k, v]) => [
          k,
          Buffer.from(v, 'base64').toString('utf8'),
        ]),
      );
      return { ...data, ...(rendered.stringData ?? {}) };
    }
    return knownSecrets.has(name) ? knownSecrets.get(name) : null;
  };
  for (const from of (container.envFrom ?? []) as K8sObject[]) {
    if (from.configMapRef) {
      const cm = configMap(from.configMapRef.name);
      if (!cm) {
        if (!from.configMapRef.optional)
          problems.push(`envFrom ConfigMap ${from.configMapRef.name} does not exist`);
        continue;
      }
      Object.assign(values, cm.data ?? {});
    } else {
      problems.push('envFrom other than a ConfigMap cannot be checked; name each variable in env');
    }
  }
  for (const e of (container.env ?? []) as K8sObject[]) {
    if (e.value !== undefined) {
      values[e.name] = String(e.value).replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (whole, ref: string) => {
        if (values[ref] === undefined) {
          problems.push(`${e.name} refers to $(${ref}), which is not defined before it`);
          return whole;
        }
        if (fromSecrets.has(ref)) fromSecrets.add(e.name);
        return values[ref];
      });
      continue;
    }
    const ref = e.valueFrom?.secretKeyRef ?? e.valueFrom?.configMapKeyRef;
    if (e.valueFrom?.secretKeyRef) {
      const keys = secretKeys(ref.name);
      if (keys === null)
        problems.push(`${e.name}: Secret ${ref.name} is neither rendered, operator-made nor documented`);
      else if (keys && !(ref.key in keys) && !ref.optional)
        problems.push(`${e.name}: Secret ${ref.name} has no key ${ref.key}`);
      if (ref.optional) continue; // may be absent at run time: it cannot satisfy a requirement
      values[e.name] = keys?.[ref.key] || placeholder(ref.name, ref.key);
      fromSecrets.add(e.name);
    } else if (e.valueFrom?.configMapKeyRef) {
      const value = configMap(ref.name)?.data?.[ref.key];
      if (value === undefined && !ref.optional)
        problems.push(`${e.name}: ConfigMap ${ref.name} has no key ${ref.key}`);
      if (value !== undefined) values[e.name] = value;
    } else if (e.valueFrom?.fieldRef) {
      values[e.name] = 'field';
    } else {
      problems.push(`${e.name}: no value`);
    }
  }
  return { values, fromSecrets, problems };
}

function configProblems(shape: EnvShape | EnvClass, env: Record<string, string>): string[] {
  try {
    loadEnv(shape, env);
    return [];
  } catch (error) {
    if (error instanceof ConfigError) return error.problems.map((p) => `${p.variable}: ${p.message}`);
    throw error;
  }
}

/** Everything the manifests of one overlay must agree with; returns the problems found. */
export function checkManifests(objects: K8sObject[], facts: AppFacts, dockerfile: string): string[] {
  const problems: string[] = [];
  const say = (where: string, what: string) => problems.push(`${where}: ${what}`);
  const operator = operatorObjects(objects);
  const pods = [...podTemplates(objects), ...operator.pods];
  const services = [
    ...objects
      .filter((o) => o.kind === 'Service')
      .map((s) => ({
        name: s.metadata.name as string,
        labels: (s.metadata.labels ?? {}) as Record<string, string>,
        selector: s.spec?.selector as Record<string, string> | undefined,
        ports: ((s.spec?.ports ?? []) as K8sObject[]).map((p) => ({
          name: p.name,
          port: p.port,
          targetPort: p.targetPort,
        })),
      })),
    ...operator.services.map((s) => ({ ...s, selector: undefined })),
  ];
  const knownSecrets = new Map<string, Record<string, string> | undefined>([
    ...operator.secrets,
    ...USER_SECRETS.map((s) => [s, USER_SECRET_SAMPLES[s]] as [string, Record<string, string> | undefined]),
  ]);
  const baseEnv = imageEnv(dockerfile);
  const apps = new Set(facts.configs.keys());
  const byName = (kind: string, name: string) =>
    objects.find((o) => o.kind === kind && o.metadata?.name === name);
  const namespace = objects.find((o) => o.metadata?.namespace)?.metadata.namespace as string | undefined;
  const dockerfileBuildsApp = /^ARG APP\b/m.test(dockerfile) && dockerfile.includes('dist/apps/${APP}');
  if (!dockerfileBuildsApp)
    say('docker/Dockerfile', 'does not build the app named by ARG APP (dist/apps/${APP})');

  const checkHosts = (where: string, env: Record<string, string>) => {
    for (const variable of ['DATABASE_URL', 'AMQP_URL']) {
      const value = env[variable];
      if (!value) continue;
      let host: string;
      try {
        host = new URL(value).hostname;
      } catch {
        continue;
      }
      const service = host.split('.')[0];
      if (!services.some((s) => s.name === service))
        say(where, `${variable} points at ${host}, which no Service serves`);
    }
  };

  const securityProblems = (where: string, pod: K8sObject) => {
    const podSc = pod.securityContext ?? {};
    if (podSc.runAsNonRoot !== true) say(where, 'pod securityContext.runAsNonRoot must be true');
    const tmpVolumes = new Set(
      ((pod.volumes ?? []) as K8sObject[]).filter((v) => v.emptyDir).map((v) => v.name as string),
    );
    for (const c of [...(pod.initContainers ?? []), ...(pod.containers ?? [])] as K8sObject[]) {
      const sc = c.securityContext ?? {};
      const at = `${where} container ${c.name}`;
      if ((sc.seccompProfile ?? podSc.seccompProfile)?.type !== 'RuntimeDefault')
        say(at, 'seccompProfile must be RuntimeDefault');
      if (sc.allowPrivilegeEscalation !== false) say(at, 'allowPrivilegeEscalation must be false');
      if (sc.readOnlyRootFilesystem !== true) say(at, 'readOnlyRootFilesystem must be true');
      if (!(sc.capabilities?.drop ?? []).includes('ALL')) say(at, 'capabilities must drop ALL');
      if (sc.privileged) say(at, 'must not be privileged');
      const tmp = ((c.volumeMounts ?? []) as K8sObject[]).find((m) => m.mountPath === '/tmp');
      if (!tmp || !tmpVolumes.has(tmp.name))
        say(at, 'needs an emptyDir at /tmp (the root filesystem is read-only)');
      if (!c.resources?.requests?.cpu || !c.resources?.requests?.memory || !c.resources?.limits?.memory)
        say(at, 'needs cpu and memory requests and a memory limit');
      const app = appOfImage(String(c.image));
      if (!app || !apps.has(app)) say(at, `image ${c.image} is not one the Dockerfile builds (tally-<app>)`);
    }
  };

  for (const d of objects.filter((o) => o.kind === 'Deployment')) {
    const where = `Deployment/${d.metadata.name}`;
    const pod = d.spec.template.spec;
    const labels = d.spec.template.metadata?.labels ?? {};
    if (!matches(d.spec.selector, labels)) say(where, 'selector does not match its pod template labels');
    securityProblems(where, pod);
    if (pod.automountServiceAccountToken !== false) say(where, 'automountServiceAccountToken must be false');
    for (const c of pod.containers as K8sObject[]) {
      const at = `${where} container ${c.name}`;
      const app = appOfImage(String(c.image));
      if (!app || !facts.configs.has(app)) continue;
      if (labels['app.kubernetes.io/name'] !== app)
        say(at, `runs ${app} but its pods are labelled ${labels['app.kubernetes.io/name']}`);
      const config = facts.configs.get(app)!;
      const env = resolveEnv(c, objects, baseEnv, knownSecrets);
      env.problems.forEach((p) => say(at, p));
      if (env.values.NODE_ENV !== 'production') say(at, 'NODE_ENV must be production');
      for (const variable of config.productionRequired)
        if (env.values[variable] === undefined) say(at, `required variable ${variable} is not provided`);
      configProblems(config, env.values).forEach((p) => say(at, `the app's config refuses it: ${p}`));
      unknownVariables(env.values, facts, c).forEach((p) => say(at, p));
      checkHosts(at, env.values);
      // Ports and probes against the app's own port and routes.
      const portVariable = config.httpPort;
      let appPort: number | undefined;
      try {
        appPort = portVariable
          ? (loadEnv(config, env.values) as Record<string, number>)[portVariable]
          : undefined;
      } catch {
        appPort = undefined;
      }
      const ports = (c.ports ?? []) as K8sObject[];
      const http = ports.find((p) => p.name === 'http');
      if (!http) say(at, 'has no port named http');
      else if (appPort !== undefined && http.containerPort !== appPort)
        say(at, `port http is ${http.containerPort} but the app listens on ${appPort} (${portVariable})`);
      const probePort = (p: K8sObject) =>
        typeof p.httpGet?.port === 'string'
          ? ports.find((x) => x.name === p.httpGet.port)?.containerPort
          : p.httpGet?.port;
      const expected: [string, string][] = [
        ['readinessProbe', '/health/ready'],
        ['livenessProbe', '/health/live'],
      ];
      for (const [probe, route] of expected) {
        const p = c[probe];
        if (!p?.httpGet) {
          say(at, `${probe} must be an HTTP GET of ${route}`);
          continue;
        }
        if (p.httpGet.path !== route || !facts.healthRoutes.includes(p.httpGet.path))
          say(
            at,
            `${probe} path ${p.httpGet.path} is not the app's ${route} (routes: ${facts.healthRoutes.join(', ')})`,
          );
        if (probePort(p) !== appPort)
          say(at, `${probe} port ${p.httpGet.port} is not the app's port ${appPort}`);
      }
      if (c.startupProbe?.httpGet) {
        if (!facts.healthRoutes.includes(c.startupProbe.httpGet.path))
          say(at, `startupProbe path ${c.startupProbe.httpGet.path} is not a health route`);
        if (probePort(c.startupProbe) !== appPort)
          say(at, `startupProbe port is not the app's port ${appPort}`);
      }
      // Graceful shutdown fits in the grace period: preStop sleep + SHUTDOWN_GRACE_MS.
      const sleep = Number(
        (c.lifecycle?.preStop?.exec?.command ?? [])[1] ?? c.lifecycle?.preStop?.sleep?.seconds ?? NaN,
      );
      if (!Number.isFinite(sleep)) say(at, 'needs a preStop sleep so endpoints drop the pod before SIGTERM');
      const grace = Number(env.values.SHUTDOWN_GRACE_MS ?? 10_000) / 1000;
      const period = pod.terminationGracePeriodSeconds ?? 30;
      if (Number.isFinite(sleep) && period < sleep + grace)
        say(
          where,
          `terminationGracePeriodSeconds ${period} < preStop ${sleep} s + SHUTDOWN_GRACE_MS ${grace} s`,
        );
    }
    // Apps wait for the migrations with the app role.
    const waits = ((pod.initContainers ?? []) as K8sObject[]).filter((c) =>
      (c.command ?? []).some((a: string) => a.includes('cli/migrate.js')),
    );
    if (waits.length === 0)
      say(where, 'has no init container waiting for the migrations (migrate.js --wait)');
    for (const c of waits) {
      const at = `${where} init container ${c.name}`;
      if (!(c.command as string[]).some((a) => a.startsWith('--wait') || a === '--check'))
        say(at, 'must run migrate.js --wait');
      const env = resolveEnv(c, objects, baseEnv, knownSecrets);
      env.problems.forEach((p) => say(at, p));
      configProblems(databaseEnv, env.values).forEach((p) => say(at, `migrate --wait refuses it: ${p}`));
    }
  }

  for (const j of objects.filter((o) => o.kind === 'Job')) {
    const where = `Job/${j.metadata.name}`;
    const pod = j.spec.template.spec;
    securityProblems(where, pod);
    for (const c of pod.containers as K8sObject[]) {
      if (!(c.command ?? []).some((a: string) => a.includes('cli/migrate.js'))) continue;
      const env = resolveEnv(c, objects, baseEnv, knownSecrets);
      env.problems.forEach((p) => say(`${where} container ${c.name}`, p));
      configProblems(migrationEnv, env.values).forEach((p) =>
        say(`${where} container ${c.name}`, `migrate refuses it: ${p}`),
      );
    }
  }
  if (!objects.some((o) => o.kind === 'Job' && JSON.stringify(o).includes('cli/migrate.js')))
    say('manifests', 'no Job runs the migrations');

  for (const s of objects.filter((o) => o.kind === 'Service')) {
    const where = `Service/${s.metadata.name}`;
    const selected = pods.filter((p) => matches(s.spec?.selector, p.labels));
    if (selected.length === 0) {
      say(where, `selector ${JSON.stringify(s.spec?.selector)} matches no pods`);
      continue;
    }
    for (const port of (s.spec.ports ?? []) as K8sObject[]) {
      const target = port.targetPort ?? port.port;
      for (const p of selected)
        if (!p.ports.some((x) => x.name === target || x.port === target))
          say(where, `targetPort ${target} is not a container port of ${p.owner}`);
    }
  }

  for (const ing of objects.filter((o) => o.kind === 'Ingress')) {
    const routes: { path: string; service: string }[] = [];
    for (const rule of (ing.spec.rules ?? []) as K8sObject[])
      for (const p of (rule.http?.paths ?? []) as K8sObject[]) {
        const backend = p.backend?.service;
        const service = services.find((s) => s.name === backend?.name);
        routes.push({ path: p.path, service: backend?.name });
        if (!service) say(`Ingress/${ing.metadata.name}`, `backend ${backend?.name} is not a Service`);
        else if (!service.ports.some((x) => x.name === backend.port?.name || x.port === backend.port?.number))
          say(
            `Ingress/${ing.metadata.name}`,
            `backend ${backend.name} has no port ${JSON.stringify(backend.port)}`,
          );
      }
    const serves = (app: string) =>
      services.filter((s) =>
        pods.some((p) => matches(s.selector, p.labels) && p.labels['app.kubernetes.io/name'] === app),
      );
    for (const [app, paths] of [
      ['gateway', ['/v1', '/docs', '/docs-json']],
      ['admin', ['/']],
    ] as const)
      for (const route of paths)
        if (!routes.some((r) => r.path === route && serves(app).some((s) => s.name === r.service)))
          say(`Ingress/${ing.metadata.name}`, `${route} does not lead to the ${app}`);
  }

  for (const pdb of objects.filter((o) => o.kind === 'PodDisruptionBudget')) {
    const selected = objects.filter(
      (o) =>
        (o.kind === 'Deployment' || o.kind === 'StatefulSet') &&
        matches(pdb.spec.selector, o.spec.template.metadata?.labels ?? {}),
    );
    const operatorPods = operator.pods.filter((p) => matches(pdb.spec.selector, p.labels));
    if (selected.length === 0 && operatorPods.length === 0)
      say(`PodDisruptionBudget/${pdb.metadata.name}`, 'selects no Deployment');
    for (const d of selected)
      if (typeof pdb.spec.minAvailable === 'number' && pdb.spec.minAvailable >= (d.spec.replicas ?? 1))
        say(
          `PodDisruptionBudget/${pdb.metadata.name}`,
          `minAvailable blocks every eviction of ${d.metadata.name}`,
        );
  }

  const scaled = new Map<string, string>();
  for (const hpa of objects.filter((o) => o.kind === 'HorizontalPodAutoscaler')) {
    const where = `HorizontalPodAutoscaler/${hpa.metadata.name}`;
    const target = byName(hpa.spec.scaleTargetRef.kind, hpa.spec.scaleTargetRef.name);
    if (!target)
      say(where, `target ${hpa.spec.scaleTargetRef.kind}/${hpa.spec.scaleTargetRef.name} does not exist`);
    else {
      scaled.set(target.metadata.name, where);
      const usesCpu = (hpa.spec.metrics ?? []).some((m: K8sObject) => m.resource?.name === 'cpu');
      if (usesCpu && target.spec.template.spec.containers.some((c: K8sObject) => !c.resources?.requests?.cpu))
        say(where, 'scales on CPU but its target has no CPU request');
    }
  }
  for (const so of objects.filter((o) => o.kind === 'ScaledObject')) {
    const where = `ScaledObject/${so.metadata.name}`;
    const target = byName(so.spec.scaleTargetRef.kind ?? 'Deployment', so.spec.scaleTargetRef.name);
    if (!target) say(where, `target ${so.spec.scaleTargetRef.name} does not exist`);
    else if (scaled.has(target.metadata.name))
      say(where, `${target.metadata.name} is also scaled by ${scaled.get(target.metadata.name)}`);
    for (const trigger of (so.spec.triggers ?? []) as K8sObject[]) {
      if (trigger.type !== 'rabbitmq') continue;
      if (!facts.queueNames.includes(trigger.metadata?.queueName))
        say(
          where,
          `queue ${trigger.metadata?.queueName} is not in the topology (${facts.queueNames.join(', ')})`,
        );
      const consumes = target && String(target.metadata.name) === 'transaction-worker';
      if (target && !consumes && trigger.metadata?.queueName === Queues.transactionWorker.name)
        say(where, `scales ${target.metadata.name} on a queue it does not consume`);
      if (trigger.metadata?.host) {
        const host = new URL(trigger.metadata.host).hostname.split('.');
        if (!objects.some((o) => o.kind === 'RabbitmqCluster' && o.metadata.name === host[0]))
          say(where, `host ${trigger.metadata.host} is not the RabbitmqCluster's Service`);
        if (namespace && host[1] !== namespace)
          say(where, `host ${trigger.metadata.host} is not in namespace ${namespace}`);
      }
      const auth = trigger.authenticationRef?.name;
      if (auth) {
        const ta = byName('TriggerAuthentication', auth);
        if (!ta) say(where, `TriggerAuthentication ${auth} does not exist`);
        for (const ref of (ta?.spec?.secretTargetRef ?? []) as K8sObject[]) {
          const keys = knownSecrets.get(ref.name);
          if (!knownSecrets.has(ref.name))
            say(`TriggerAuthentication/${auth}`, `Secret ${ref.name} is not known`);
          else if (keys && !(ref.key in keys))
            say(`TriggerAuthentication/${auth}`, `Secret ${ref.name} has no key ${ref.key}`);
        }
      }
    }
  }

  for (const np of objects.filter((o) => o.kind === 'NetworkPolicy')) {
    const where = `NetworkPolicy/${np.metadata.name}`;
    const selected = isEmptySelector(np.spec.podSelector)
      ? pods
      : pods.filter((p) => matches(np.spec.podSelector, p.labels));
    if (selected.length === 0)
      say(where, `podSelector ${JSON.stringify(np.spec.podSelector)} selects no pods`);
    const rules = [
      ...((np.spec.ingress ?? []) as K8sObject[]).map((r) => ({
        peers: r.from ?? [],
        ports: r.ports ?? [],
        dir: 'ingress',
      })),
      ...((np.spec.egress ?? []) as K8sObject[]).map((r) => ({
        peers: r.to ?? [],
        ports: r.ports ?? [],
        dir: 'egress',
      })),
    ];
    for (const rule of rules) {
      for (const peer of rule.peers as K8sObject[]) {
        if (peer.podSelector && !peer.namespaceSelector && !isEmptySelector(peer.podSelector)) {
          const peers = pods.filter((p) => matches(peer.podSelector, p.labels));
          if (peers.length === 0)
            say(where, `${rule.dir} peer ${JSON.stringify(peer.podSelector)} selects no pods`);
          // Egress to a peer on a named or numbered port: the peer must have it.
          if (rule.dir === 'egress')
            for (const port of rule.ports as K8sObject[])
              if (
                port.port !== undefined &&
                !peers.some((p) => p.ports.some((x) => x.name === port.port || x.port === port.port))
              )
                say(where, `egress port ${port.port} is not a port of ${JSON.stringify(peer.podSelector)}`);
        }
      }
      // Ingress on a named port: the selected pods must have it.
      if (rule.dir === 'ingress')
        for (const port of rule.ports as K8sObject[])
          if (typeof port.port === 'string')
            for (const p of selected)
              if (!p.ports.some((x) => x.name === port.port))
                say(where, `${p.owner} has no port named ${port.port}`);
    }
  }

  for (const sm of objects.filter((o) => o.kind === 'ServiceMonitor')) {
    const where = `ServiceMonitor/${sm.metadata.name}`;
    const selected = services.filter((s) => matches(sm.spec.selector, s.labels));
    if (selected.length === 0) say(where, 'selects no Service');
    for (const ep of (sm.spec.endpoints ?? []) as K8sObject[]) {
      for (const s of selected)
        if (!s.ports.some((p) => p.name === ep.port))
          say(where, `Service ${s.name} has no port named ${ep.port}`);
      const ours = selected.some((s) =>
        pods.some((p) => matches(s.selector, p.labels) && appOfImage(String(p.containers[0]?.image ?? ''))),
      );
      if (ours && ep.path !== facts.metricsRoute)
        say(where, `path ${ep.path} is not the apps' ${facts.metricsRoute}`);
    }
  }
  return problems;
}

// ---------------------------------------------------------------------------------------------
// Dockerfile

interface Stage {
  name: string | null;
  image: string;
  instructions: Instruction[];
}

function stagesOf(text: string): Stage[] {
  const dockerfile = DockerfileParser.parse(text);
  const args = new Map<string, string>();
  for (const a of dockerfile.getInitialARGs()) {
    const p = a.getProperty();
    if (p) args.set(p.getName(), p.getValue() ?? '');
  }
  const stages: Stage[] = [];
  for (const i of dockerfile.getInstructions()) {
    if (i.getKeyword() === 'FROM') {
      const from = i as unknown as { getImage(): string | null; getBuildStage(): string | null };
      const image = (from.getImage() ?? '').replace(/\$\{?(\w+)\}?/g, (_w, v: string) => args.get(v) ?? '');
      stages.push({ name: from.getBuildStage(), image, instructions: [] });
    } else stages[stages.length - 1]?.instructions.push(i);
  }
  return stages;
}

/** A .dockerignore matcher (the patterns Docker documents, without exceptions). */
export function dockerIgnored(dockerignore: string, file: string): boolean {
  const patterns = dockerignore
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  let ignored = false;
  for (const raw of patterns) {
    const negate = raw.startsWith('!');
    const pattern = path.posix.normalize(raw.replace(/^!/, '').replace(/^\//, ''));
    const re = new RegExp(
      '^' +
        pattern
          .split('**')
          .map((part) =>
            part
              .replace(/[.+^${}()|[\]\\]/g, '\\$&')
              .replace(/\*/g, '[^/]*')
              .replace(/\?/g, '[^/]'),
          )
          .join('.*') +
        '(/.*)?$',
    );
    if (re.test(path.posix.normalize(file))) ignored = !negate;
  }
  return ignored;
}

/** hadolint-like rules for docker/Dockerfile, plus: what it copies exists and is in the context. */
export function lintDockerfile(text: string, dockerignore: string, contextDir = repoRoot): string[] {
  const problems: string[] = [];
  const stages = stagesOf(text);
  const stageNames = new Set(stages.map((s) => s.name).filter(Boolean));
  if (stages.length === 0) return ['no FROM'];
  for (const s of stages) {
    if (stageNames.has(s.image)) continue;
    const [, tag] = /^[^@]*?(?::([^:/@]+))?(?:@.+)?$/.exec(s.image) ?? [];
    if (!tag && !s.image.includes('@sha256:')) problems.push(`FROM ${s.image}: pin the base image tag`);
    else if (tag === 'latest') problems.push(`FROM ${s.image}: never "latest"`);
    else if (tag && !/\d/.test(tag)) problems.push(`FROM ${s.image}: pin a version, not a moving tag`);
  }
  const final = stages[stages.length - 1];
  const keyword = (i: Instruction) => i.getKeyword();
  const users = final.instructions.filter((i) => keyword(i) === 'USER');
  const user = users[users.length - 1]?.getArgumentsContent()?.split(':')[0];
  if (!user) problems.push('the final stage sets no USER (it would run as root)');
  else if (user === 'root' || user === '0') problems.push(`the final stage runs as ${user}`);
  const health = final.instructions.filter((i) => keyword(i) === 'HEALTHCHECK');
  if (health.length === 0 || /^NONE\b/i.test(health[health.length - 1].getArgumentsContent() ?? ''))
    problems.push('the final stage has no HEALTHCHECK');
  for (const i of final.instructions.filter((x) => ['CMD', 'ENTRYPOINT'].includes(keyword(x)))) {
    const args = (i.getArgumentsContent() ?? '').trim();
    if (!args.startsWith('[') && !/^exec\s/.test(args))
      problems.push(`${keyword(i)} ${args}: use the exec form so the app gets SIGTERM`);
    if (args.startsWith('[') && /^\[\s*"(sh|bash|\/bin\/sh)"/.test(args) && !/exec /.test(args))
      problems.push(`${keyword(i)} ${args}: a shell without exec swallows SIGTERM`);
  }
  if (!final.instructions.some((i) => keyword(i) === 'CMD' || keyword(i) === 'ENTRYPOINT'))
    problems.push('the final stage has no CMD');
  const env = imageEnv(text);
  if (env.NODE_ENV !== 'production') problems.push('the final stage must set NODE_ENV=production');
  for (const s of stages)
    for (const i of s.instructions) {
      const args = i.getArgumentsContent() ?? '';
      if (keyword(i) === 'RUN' && /\bnpm\s+(install|i)(\s|$)/.test(args))
        problems.push(`RUN ${args}: use npm ci (the lockfile), not npm install`);
      if (keyword(i) === 'ADD' && !/https?:\/\//.test(args))
        problems.push(`ADD ${args}: use COPY for local files`);
      const fromStage = (i as unknown as { getFromFlag?(): unknown }).getFromFlag?.();
      if (keyword(i) === 'COPY' && !fromStage) {
        const parts = (i.getArguments().map((a) => a.getValue()) as string[]).filter(
          (a) => !a.startsWith('--'),
        );
        for (const source of parts.slice(0, -1)) {
          const clean = source.replace(/^\.\//, '').replace(/\/$/, '') || '.';
          if (!existsSync(path.join(contextDir, clean)))
            problems.push(`COPY ${source}: no such file in the build context`);
          else if (dockerIgnored(dockerignore, clean))
            problems.push(`COPY ${source}: excluded by .dockerignore`);
        }
      }
    }
  if (
    !stages.some((s) =>
      s.instructions.some((i) => keyword(i) === 'RUN' && /\bnpm\s+ci\b/.test(i.getArgumentsContent() ?? '')),
    )
  )
    problems.push('no RUN npm ci');
  return problems;
}

// ---------------------------------------------------------------------------------------------
// docker/compose.yaml

/** Services exist, files exist, build args are the Dockerfile's, apps' env passes their config. */
export function checkCompose(
  text: string,
  composeDir: string,
  facts: AppFacts,
  dockerfile: string,
): string[] {
  const problems: string[] = [];
  let doc: K8sObject;
  try {
    doc = parseYaml(text, { merge: true }) as K8sObject;
  } catch (error) {
    return [`does not parse: ${(error as Error).message}`];
  }
  const services = (doc.services ?? {}) as Record<string, K8sObject>;
  const volumes = new Set(Object.keys(doc.volumes ?? {}));
  const declaredArgs = new Set([...dockerfile.matchAll(/^ARG\s+(\w+)/gm)].map((m) => m[1]));
  const stages = stagesOf(dockerfile);
  const baseEnv = imageEnv(dockerfile);
  for (const [name, s] of Object.entries(services)) {
    const where = `service ${name}`;
    const deps = Array.isArray(s.depends_on) ? s.depends_on : Object.keys(s.depends_on ?? {});
    for (const dep of deps)
      if (!services[dep]) problems.push(`${where}: depends on ${dep}, which is not a service`);
    for (const [dep, cond] of Object.entries(
      (Array.isArray(s.depends_on) ? {} : (s.depends_on ?? {})) as K8sObject,
    )) {
      if (!['service_started', 'service_healthy', 'service_completed_successfully'].includes(cond.condition))
        problems.push(`${where}: unknown condition ${cond.condition} for ${dep}`);
      if (
        cond.condition === 'service_healthy' &&
        services[dep] &&
        !services[dep].healthcheck &&
        !services[dep].build
      )
        problems.push(`${where}: waits for ${dep} to be healthy, but ${dep} has no healthcheck`);
    }
    for (const v of (s.volumes ?? []) as (string | K8sObject)[]) {
      const source = typeof v === 'string' ? v.split(':')[0] : v.source;
      if (source.startsWith('.') || source.startsWith('/')) {
        if (!existsSync(path.resolve(composeDir, source)))
          problems.push(`${where}: mounts ${source}, which does not exist`);
      } else if (!volumes.has(source)) problems.push(`${where}: volume ${source} is not declared`);
    }
    let app: string | undefined;
    if (s.build) {
      const context = path.resolve(composeDir, s.build.context ?? '.');
      if (!existsSync(context)) problems.push(`${where}: build context ${s.build.context} does not exist`);
      const dockerfilePath = path.resolve(context, s.build.dockerfile ?? 'Dockerfile');
      if (!existsSync(dockerfilePath))
        problems.push(`${where}: Dockerfile ${s.build.dockerfile} does not exist`);
      for (const arg of Object.keys(s.build.args ?? {}))
        if (!declaredArgs.has(arg))
          problems.push(`${where}: build arg ${arg} is not an ARG of the Dockerfile`);
      // A target other than the final stage is a tool's image (the provider simulator), not an app's.
      const target = s.build.target as string | undefined;
      if (target !== undefined) {
        if (!stages.some((st) => st.name === target))
          problems.push(`${where}: build target ${target} is not a stage of the Dockerfile`);
        if (target !== stages[stages.length - 1]?.name) continue;
      }
      app = s.build.args?.APP;
      if (!app || !facts.configs.has(app)) problems.push(`${where}: build arg APP=${app} is not an app`);
    }
    if (!app) continue;
    const env = {
      ...baseEnv,
      ...Object.fromEntries(Object.entries(s.environment ?? {}).map(([k, v]) => [k, String(v)])),
    };
    const command = ([] as string[]).concat(s.command ?? []).join(' ');
    if (command.includes('cli/migrate.js')) {
      configProblems(migrationEnv, env).forEach((p) => problems.push(`${where}: migrate refuses it: ${p}`));
      continue;
    }
    configProblems(facts.configs.get(app)!, env).forEach((p) =>
      problems.push(`${where}: the app's config refuses it: ${p}`),
    );
    unknownVariables(env, facts).forEach((p) => problems.push(`${where}: ${p}`));
    const migrate = Object.entries(services).find(([, x]) =>
      ([] as string[])
        .concat(x.command ?? [])
        .join(' ')
        .includes('cli/migrate.js'),
    );
    if (!migrate) problems.push('no service runs the migrations');
    else if ((s.depends_on ?? {})[migrate[0]]?.condition !== 'service_completed_successfully')
      problems.push(`${where}: must wait for ${migrate[0]} (service_completed_successfully)`);
    for (const variable of ['DATABASE_URL', 'AMQP_URL']) {
      const host = env[variable] ? new URL(env[variable]).hostname : undefined;
      if (host && !services[host])
        problems.push(`${where}: ${variable} points at ${host}, which is not a service`);
    }
  }
  return problems;
}

/** Each app's HTTP port variable and default, from its config. */
export function appPorts(facts: AppFacts): Map<string, { variable: string; port: number }> {
  const out = new Map<string, { variable: string; port: number }>();
  for (const [app, config] of facts.configs) {
    const variable = config.httpPort;
    if (!variable) continue;
    out.set(app, { variable, port: (loadEnv(config, {}) as Record<string, number>)[variable] });
  }
  return out;
}

/** Prometheus scrapes every app service of the compose stack on the app's port. */
export function checkPrometheus(config: string, compose: string, facts: AppFacts): string[] {
  const problems: string[] = [];
  const services = (parseYaml(compose, { merge: true }) as K8sObject).services as Record<string, K8sObject>;
  const prom = parseYaml(config) as K8sObject;
  // Static targets and DNS service discovery (a name:port per replica).
  const targets = ((prom.scrape_configs ?? []) as K8sObject[]).flatMap((j) =>
    [
      ...((j.static_configs ?? []) as K8sObject[]).flatMap((s) => s.targets as string[]),
      ...((j.dns_sd_configs ?? []) as K8sObject[]).flatMap((d) =>
        (d.names as string[]).map((n) => `${n}:${d.port}`),
      ),
    ].map((t) => ({ t, path: j.metrics_path ?? '/metrics' })),
  );
  const ports = appPorts(facts);
  for (const { t, path: p } of targets) {
    const [host, port] = t.split(':');
    if (!services[host]) problems.push(`target ${t}: ${host} is not a compose service`);
    if (p !== facts.metricsRoute) problems.push(`target ${t}: path ${p} is not ${facts.metricsRoute}`);
    const app = services[host]?.build?.args?.APP;
    if (app && ports.get(app)?.port !== Number(port))
      problems.push(`target ${t}: ${app} listens on ${ports.get(app)?.port}`);
  }
  for (const [name, s] of Object.entries(services)) {
    const app = s.build?.args?.APP;
    if (
      app &&
      !([] as string[])
        .concat(s.command ?? [])
        .join(' ')
        .includes('migrate') &&
      !targets.some((x) => x.t.startsWith(`${name}:`))
    )
      problems.push(`service ${name} (${app}) is not scraped`);
  }
  return problems;
}

export function readRepo(file: string): string {
  return readFileSync(path.join(repoRoot, file), 'utf8');
}

export function isDirectory(p: string): boolean {
  return existsSync(p) && statSync(p).isDirectory();
}

// ---------------------------------------------------------------------------------------------
// Grafana dashboard

const PROMQL_WORDS = new Set([
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'bool',
  'and',
  'or',
  'unless',
  'offset',
  'inf',
  'nan',
]);

/** Metric names a PromQL expression reads (functions, labels, keywords, durations left out). */
export function promqlMetricNames(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'/g, '""') // strings
    .replace(/\{[^}]*\}/g, '') // label matchers
    .replace(/\[[^\]]*\]/g, '') // ranges
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' '); // label lists
  const names = new Set<string>();
  for (const m of stripped.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*/g)) {
    const after = stripped.slice((m.index ?? 0) + m[0].length).trimStart();
    if (after.startsWith('(')) continue; // a function
    if (PROMQL_WORDS.has(m[0].toLowerCase())) continue;
    if (/^\d/.test(m[0])) continue;
    names.add(m[0]);
  }
  return [...names];
}

/** Every PromQL expression of a Grafana dashboard (panels, rows' panels, templating). */
export function dashboardExpressions(dashboard: K8sObject): string[] {
  const panels = ((dashboard.panels ?? []) as K8sObject[]).flatMap((p) => [
    p,
    ...((p.panels ?? []) as K8sObject[]),
  ]);
  return panels.flatMap((p) =>
    ((p.targets ?? []) as K8sObject[]).map((t) => t.expr as string).filter(Boolean),
  );
}
