/**
 * A NetworkPolicy reachability model: which connections the rendered policies allow between the
 * pods of an overlay, the cluster's add-ons and addresses outside the cluster, compared with the
 * flows Tally's architecture needs. Every flow needed must be allowed; any other flow allowed
 * between the endpoints modelled is a problem too ("nothing else").
 */
import ipaddr from 'ipaddr.js';
import type { K8sObject } from './checks.js';

export interface PodEndpoint {
  kind: 'pod';
  /** How flows name it: an app, "postgres", "keda", … */
  name: string;
  namespace: string;
  labels: Record<string, string>;
  ports: { name?: string; port: number; protocol?: string }[];
}
export interface AddressEndpoint {
  kind: 'address';
  name: string;
  ip: string;
  /** Ports probed on this address. */
  ports: { port: number; protocol?: string }[];
}
export type Endpoint = PodEndpoint | AddressEndpoint;

export interface Flow {
  from: string;
  to: string;
  port: number;
  protocol: string;
}

const key = (f: Flow) => `${f.from} -> ${f.to}:${f.port}/${f.protocol}`;

function matchesSelector(selector: K8sObject | undefined, labels: Record<string, string>): boolean {
  if (!selector) return true;
  for (const [k, v] of Object.entries((selector.matchLabels ?? {}) as Record<string, string>))
    if (labels[k] !== v) return false;
  for (const e of (selector.matchExpressions ?? []) as K8sObject[]) {
    const has = e.key in labels;
    if (e.operator === 'In' && !(has && e.values.includes(labels[e.key]))) return false;
    if (e.operator === 'NotIn' && has && e.values.includes(labels[e.key])) return false;
    if (e.operator === 'Exists' && !has) return false;
    if (e.operator === 'DoesNotExist' && has) return false;
  }
  return true;
}

function inBlock(ip: string, block: K8sObject): boolean {
  const address = ipaddr.parse(ip);
  const within = (cidr: string) => {
    const range = ipaddr.parseCIDR(cidr);
    return range[0].kind() === address.kind() && address.match(range);
  };
  return within(block.cidr) && !((block.except ?? []) as string[]).some(within);
}

/** Does a policy peer (from/to entry) stand for this endpoint, seen from `namespace`? */
function peerMatches(peer: K8sObject, endpoint: Endpoint, namespace: string): boolean {
  if (peer.ipBlock) return endpoint.kind === 'address' && inBlock(endpoint.ip, peer.ipBlock);
  if (endpoint.kind !== 'pod') return false;
  const nsLabels = { 'kubernetes.io/metadata.name': endpoint.namespace };
  if (peer.namespaceSelector) {
    if (!matchesSelector(peer.namespaceSelector, nsLabels)) return false;
  } else if (endpoint.namespace !== namespace) return false;
  return peer.podSelector ? matchesSelector(peer.podSelector, endpoint.labels) : true;
}

function portMatches(rulePorts: K8sObject[] | undefined, target: Endpoint, port: number, protocol: string) {
  if (!rulePorts || rulePorts.length === 0) return true;
  return rulePorts.some((p) => {
    if ((p.protocol ?? 'TCP') !== protocol) return false;
    if (p.port === undefined) return true;
    if (typeof p.port === 'string')
      return target.kind === 'pod' && target.ports.some((x) => x.name === p.port && x.port === port);
    return p.endPort ? port >= p.port && port <= p.endPort : port === p.port;
  });
}

/** Whether the policies of `namespace` let `from` open a connection to `to` on `port`. */
export function allows(
  policies: K8sObject[],
  namespace: string,
  from: Endpoint,
  to: Endpoint,
  port: number,
  protocol = 'TCP',
): boolean {
  const selecting = (endpoint: Endpoint, type: 'Ingress' | 'Egress') =>
    endpoint.kind === 'pod' && endpoint.namespace === namespace
      ? policies.filter(
          (p) =>
            matchesSelector(p.spec.podSelector, endpoint.labels) &&
            ((p.spec.policyTypes as string[] | undefined) ?? ['Ingress']).includes(type),
        )
      : null;
  const egress = selecting(from, 'Egress');
  const egressOk =
    egress === null ||
    egress.some((p) =>
      ((p.spec.egress ?? []) as K8sObject[]).some(
        (rule) =>
          (!rule.to || (rule.to as K8sObject[]).some((peer) => peerMatches(peer, to, namespace))) &&
          portMatches(rule.ports, to, port, protocol),
      ),
    );
  const ingress = selecting(to, 'Ingress');
  const ingressOk =
    ingress === null ||
    ingress.some((p) =>
      ((p.spec.ingress ?? []) as K8sObject[]).some(
        (rule) =>
          (!rule.from || (rule.from as K8sObject[]).some((peer) => peerMatches(peer, from, namespace))) &&
          portMatches(rule.ports, to, port, protocol),
      ),
    );
  return egressOk && ingressOk;
}

/** Every flow to or from the namespace's pods that the policies allow (each endpoint's ports probed). */
export function allowedFlows(policies: K8sObject[], namespace: string, endpoints: Endpoint[]): Flow[] {
  const flows: Flow[] = [];
  const ours = (e: Endpoint) => e.kind === 'pod' && e.namespace === namespace;
  for (const from of endpoints)
    for (const to of endpoints) {
      // Flows between endpoints outside the namespace are not these policies' to allow.
      if (!ours(from) && !ours(to)) continue;
      for (const p of to.ports) {
        const protocol = p.protocol ?? 'TCP';
        if (allows(policies, namespace, from, to, p.port, protocol))
          flows.push({ from: from.name, to: to.name, port: p.port, protocol });
      }
    }
  return flows;
}

/** Needed flows that are not allowed, and allowed flows that are not needed. */
export function compareFlows(allowed: Flow[], needed: Flow[]): string[] {
  const have = new Set(allowed.map(key));
  const want = new Set(needed.map(key));
  return [
    ...[...want].filter((f) => !have.has(f)).map((f) => `needed but blocked: ${f}`),
    ...[...have].filter((f) => !want.has(f)).map((f) => `allowed but not needed: ${f}`),
  ];
}
