// Writes k8s/base/prometheusrule.yaml: the alerting rules of docker/prometheus/alerts.yml as a
// Prometheus Operator PrometheusRule (one source for both stacks; test/unit/deploy checks that
// the two agree). Run after editing the rules: node scripts/prometheusrule.mjs
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { groups } = parse(readFileSync(path.join(root, 'docker/prometheus/alerts.yml'), 'utf8'));
const rule = {
  apiVersion: 'monitoring.coreos.com/v1',
  kind: 'PrometheusRule',
  // The label the Prometheus selects rules by, as on k8s/base/monitoring.yaml.
  metadata: { name: 'tally', labels: { release: 'kube-prometheus-stack' } },
  spec: { groups },
};
writeFileSync(
  path.join(root, 'k8s/base/prometheusrule.yaml'),
  `# Generated from docker/prometheus/alerts.yml by scripts/prometheusrule.mjs: edit the rules there.\n${stringify(rule, { lineWidth: 0 })}`,
);
