/**
 * The load test's HTML report: one self-contained page (inline SVG, no script, nothing fetched)
 * with throughput and latency over the run, the latency distribution, and the tables.
 */
import type { SecondRow } from './open-loop.js';

interface Series {
  name: string;
  color: string;
  points: [number, number][];
}

const escape = (s: string) =>
  s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

/** Round numbers for an axis from 0 (or the floor of a log axis) to at least `max`. */
function ticks(max: number, count = 5): number[] {
  if (!(max > 0)) return [0, 1];
  const raw = max / count;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * magnitude).find((s) => s >= raw)!;
  return Array.from({ length: Math.ceil(max / step) + 1 }, (_, i) => Number((i * step).toPrecision(12)));
}

function lineChart(options: {
  title: string;
  xLabel: string;
  yLabel: string;
  series: Series[];
  logY?: boolean;
  xTicks?: number[];
  xFormat?: (x: number) => string;
}): string {
  const width = 860;
  const height = 300;
  const left = 70;
  const right = 20;
  const top = 40;
  const bottom = 50;
  const xs = options.series.flatMap((s) => s.points.map((p) => p[0]));
  const ys = options.series.flatMap((s) => s.points.map((p) => p[1])).filter(Number.isFinite);
  const xMin = Math.min(...xs, 0);
  const xMax = Math.max(...xs, 1);
  let yTicks: number[];
  let y: (v: number) => number;
  if (options.logY) {
    const lo = Math.floor(Math.log10(Math.max(Math.min(...ys.filter((v) => v > 0), 1), 0.1)));
    const hi = Math.ceil(Math.log10(Math.max(...ys, 1)));
    yTicks = Array.from({ length: hi - lo + 1 }, (_, i) => 10 ** (lo + i));
    y = (v) =>
      top + (height - top - bottom) * (1 - (Math.log10(Math.max(v, 10 ** lo)) - lo) / Math.max(hi - lo, 1));
  } else {
    yTicks = ticks(Math.max(...ys, 1));
    const yMax = yTicks[yTicks.length - 1];
    y = (v) => top + (height - top - bottom) * (1 - v / yMax);
  }
  const x = (v: number) => left + ((width - left - right) * (v - xMin)) / (xMax - xMin || 1);
  const xTicks = options.xTicks ?? ticks(xMax - xMin, 10).map((t) => t + xMin);
  const xFormat = options.xFormat ?? ((v: number) => String(v));
  const grid = yTicks
    .map(
      (t) =>
        `<line x1="${left}" x2="${width - right}" y1="${y(t)}" y2="${y(t)}" stroke="#e5e7eb"/>` +
        `<text x="${left - 6}" y="${y(t) + 4}" text-anchor="end" font-size="11">${t >= 1000 ? t.toLocaleString('en') : t}</text>`,
    )
    .join('');
  const xAxis = xTicks
    .filter((t) => t >= xMin && t <= xMax)
    .map(
      (t) =>
        `<line x1="${x(t)}" x2="${x(t)}" y1="${height - bottom}" y2="${height - bottom + 4}" stroke="#6b7280"/>` +
        `<text x="${x(t)}" y="${height - bottom + 17}" text-anchor="middle" font-size="11">${escape(xFormat(t))}</text>`,
    )
    .join('');
  const lines = options.series
    .map((s) => {
      const d = s.points
        .filter((p) => Number.isFinite(p[1]))
        .map((p, i) => `${i === 0 ? 'M' : 'L'}${x(p[0]).toFixed(1)},${y(p[1]).toFixed(1)}`)
        .join('');
      return `<path d="${d}" fill="none" stroke="${s.color}" stroke-width="1.8"/>`;
    })
    .join('');
  const legend = options.series
    .map(
      (s, i) =>
        `<rect x="${left + i * 150}" y="14" width="12" height="12" fill="${s.color}"/>` +
        `<text x="${left + i * 150 + 18}" y="24" font-size="12">${escape(s.name)}</text>`,
    )
    .join('');
  return `<figure><figcaption>${escape(options.title)}</figcaption>
<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif">
${grid}${xAxis}
<line x1="${left}" x2="${width - right}" y1="${height - bottom}" y2="${height - bottom}" stroke="#6b7280"/>
<line x1="${left}" x2="${left}" y1="${top}" y2="${height - bottom}" stroke="#6b7280"/>
${lines}${legend}
<text x="${(left + width - right) / 2}" y="${height - 8}" text-anchor="middle" font-size="12">${escape(options.xLabel)}</text>
<text transform="translate(16 ${(top + height - bottom) / 2}) rotate(-90)" text-anchor="middle" font-size="12">${escape(options.yLabel)}</text>
</svg></figure>`;
}

const table = (head: string[], rows: (string | number)[][]) =>
  `<table><thead><tr>${head.map((h) => `<th>${escape(h)}</th>`).join('')}</tr></thead><tbody>${rows
    .map((r) => `<tr>${r.map((c) => `<td>${escape(String(c))}</td>`).join('')}</tr>`)
    .join('')}</tbody></table>`;

export function htmlReport(report: {
  title: string;
  settings: [string, string][];
  summary: (string | number)[][];
  seconds: SecondRow[];
  /** [percentile, latency ms] over the whole run, for the distribution chart. */
  distribution: [number, number][];
}): string {
  const ms = (n: number) => (Number.isFinite(n) ? n.toFixed(1) : '-');
  const s = report.seconds;
  const throughput = lineChart({
    title: 'Throughput: requests due per second, and 2xx answers by the second they arrived',
    xLabel: 'second of the run',
    yLabel: 'requests / s',
    series: [
      { name: 'due (the schedule)', color: '#9ca3af', points: s.map((r) => [r.second, r.due]) },
      { name: 'answered 2xx (arrived)', color: '#2563eb', points: s.map((r) => [r.second, r.answered]) },
      { name: 'failed', color: '#dc2626', points: s.map((r) => [r.second, r.failed]) },
    ],
  });
  const latency = lineChart({
    title: 'Latency from the scheduled send time, per second (log scale)',
    xLabel: 'second of the run',
    yLabel: 'ms',
    logY: true,
    series: [
      { name: 'p50', color: '#16a34a', points: s.map((r) => [r.second, r.p50]) },
      { name: 'p90', color: '#ca8a04', points: s.map((r) => [r.second, r.p90]) },
      { name: 'p99', color: '#dc2626', points: s.map((r) => [r.second, r.p99]) },
      { name: 'max', color: '#7c3aed', points: s.map((r) => [r.second, r.max]) },
    ],
  });
  // Percentiles on a "nines" axis: x = -log10(1 - p), so 90, 99, 99.9 are evenly spaced.
  const nines = (p: number) => -Math.log10(1 - Math.min(p, 99.999) / 100);
  const distribution = lineChart({
    title: 'Latency by percentile over the whole run (log scale)',
    xLabel: 'percentile',
    yLabel: 'ms',
    logY: true,
    xTicks: [0, 50, 90, 99, 99.9, 99.99].map(nines),
    xFormat: (x) => `${(100 * (1 - 10 ** -x)).toPrecision(4).replace(/\.?0+$/, '')}`,
    series: [
      {
        name: 'latency',
        color: '#2563eb',
        points: report.distribution.map(([p, v]) => [nines(p), v]),
      },
    ],
  });
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escape(report.title)}</title>
<style>
body { font-family: sans-serif; margin: 24px; color: #111827; max-width: 920px; }
table { border-collapse: collapse; margin: 12px 0 24px; font-size: 13px; }
th, td { border: 1px solid #e5e7eb; padding: 3px 8px; text-align: right; }
th { background: #f3f4f6; } td:first-child, th:first-child { text-align: left; }
figure { margin: 16px 0; } figcaption { font-weight: bold; margin-bottom: 4px; }
</style></head><body>
<h1>${escape(report.title)}</h1>
${table(['setting', 'value'], report.settings)}
${table(['measure', 'value'], report.summary)}
${throughput}
${latency}
${distribution}
<h2>Per second</h2>
${table(
  ['second', 'due', '2xx of those', 'failed', '2xx arrived', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms'],
  s.map((r) => [r.second, r.due, r.ok, r.failed, r.answered, ms(r.p50), ms(r.p90), ms(r.p99), ms(r.max)]),
)}
</body></html>
`;
}
