import { useEffect, useState } from 'react';
import { useLoad } from './load';
import type { Line } from './components/TimeChart';

/** The windows a chart page offers, in seconds, and how many buckets each is cut into. */
export const WINDOWS: Record<string, number> = {
  '15m': 900,
  '1h': 3600,
  '6h': 21_600,
  '24h': 86_400,
  '7d': 7 * 86_400,
  '30d': 30 * 86_400,
};
const BUCKETS = 90;

export interface Series {
  from: string;
  to: string;
  step: number;
  times: number[];
  series: Line[];
}

/**
 * The last `window` as `from`, `to` and `step` query parameters, moving on every `refreshMs` (the
 * charts follow the present without a reload; the instants change only then, not at each render).
 */
export function useWindow(window: string, refreshMs = 15_000): string {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    setNow(Date.now());
    const timer = setInterval(() => setNow(Date.now()), refreshMs);
    return () => clearInterval(timer);
  }, [window, refreshMs]);
  const seconds = WINDOWS[window] ?? 3600;
  const step = Math.max(1, Math.ceil(seconds / BUCKETS));
  // Aligned on the step: each refresh adds buckets at the end instead of shifting them all.
  const to = Math.ceil(now / 1000 / step) * step;
  const from = to - Math.ceil(seconds / step) * step;
  return `from=${new Date(from * 1000).toISOString()}&to=${new Date(to * 1000).toISOString()}&step=${step}`;
}

/** One series route over the window: its answer, loading and error states. */
export function useSeries(route: string, range: string, extra = '') {
  return useLoad<Series>(`/metrics/series/${route}?${range}${extra}`);
}
