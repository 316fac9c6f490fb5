import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { Status } from './Status';

/** One line: its name and a value per bucket (null: nothing there, drawn as a gap). */
export interface Line {
  name: string;
  values: (number | null)[];
}

/** Whether a line has a value with no value on either side (a point a line cannot show). */
const isolated = (values: (number | null)[]) =>
  values.some((v, i) => v !== null && (values[i - 1] ?? null) === null && (values[i + 1] ?? null) === null);

const COLOURS = ['#3b5bdb', '#e8590c', '#2b8a3e', '#c2255c', '#7048e8', '#1098ad', '#f08c00', '#5c940d'];
const HEIGHT = 220;

/**
 * A time-series chart (uPlot, on a canvas): `times` in Unix seconds, one line per `lines` entry.
 * `format` writes a value for the legend and the axis (money, milliseconds…). The figure carries
 * how many lines and points it drew (`data-lines`, `data-points`), and its loading, error and
 * empty states are the shared ones.
 */
export function TimeChart({
  title,
  times,
  lines,
  loading = false,
  error,
  format,
  onRetry,
}: {
  title: string;
  times: number[];
  lines: Line[];
  loading?: boolean;
  error?: string;
  format?: (value: number, line: number, index: number) => string;
  onRetry?: () => void;
}) {
  const box = useRef<HTMLDivElement>(null);
  const points = lines.reduce((n, l) => n + l.values.filter((v) => v !== null).length, 0);
  const drawn = !error && points > 0;

  useEffect(() => {
    const el = box.current;
    if (!el || !drawn) return;
    const show = (u: uPlot, v: number | null, s: number, i: number | null) =>
      v === null || v === undefined
        ? '—'
        : format
          ? format(v, s - 1, i ?? 0)
          : String(Math.round(v * 1000) / 1000);
    const plot = new uPlot(
      {
        width: Math.max(280, el.clientWidth),
        height: HEIGHT,
        series: [
          {},
          ...lines.map((l, i) => ({
            label: l.name,
            stroke: COLOURS[i % COLOURS.length],
            width: 2,
            spanGaps: false,
            // A value between gaps has no segment to draw: its point shows it.
            points: { show: isolated(l.values), size: 5 },
            value: show,
          })),
        ],
        axes: [
          {},
          {
            size: 70,
            values: (_u: uPlot, ticks: number[]) =>
              ticks.map((t) => (format ? format(t, -1, -1) : String(t))),
          },
        ],
        scales: { y: { range: (_u, min, max) => [Math.min(0, min), max > 0 ? max * 1.1 : 1] } },
        legend: { live: true },
      },
      [times, ...lines.map((l) => l.values)] as uPlot.AlignedData,
      el,
    );
    const resize = new ResizeObserver(() =>
      plot.setSize({ width: Math.max(280, el.clientWidth), height: HEIGHT }),
    );
    resize.observe(el);
    return () => {
      resize.disconnect();
      plot.destroy();
    };
  }, [times, lines, drawn, format]);

  return (
    <figure
      className="chart"
      data-testid={`chart-${title}`}
      data-lines={drawn ? lines.length : 0}
      data-points={drawn ? points : 0}
    >
      <figcaption>{title}</figcaption>
      {!drawn && (
        <Status
          loading={loading}
          error={error}
          empty={!loading && !error}
          emptyText="No data in this window."
          onRetry={onRetry}
        />
      )}
      <div ref={box} className="plot" />
    </figure>
  );
}
