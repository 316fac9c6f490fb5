import { LoadConnection } from './load-connection.js';

/** One request the schedule sends: which kind it is, and its bytes. */
export interface PlannedRequest {
  kind: string;
  /** Request line and headers, without Content-Length. */
  head: string;
  body: string;
}

/** What became of one request: when it was due, how long after that it was answered, and how. */
export interface Outcome {
  kind: string;
  /** Milliseconds since the run started at which the schedule said to send it. */
  scheduledMs: number;
  /** Milliseconds from the scheduled send time to the whole answer (queueing included). */
  latencyMs: number;
  /** The status code, or 0 when the connection failed. */
  status: number;
}

export interface OpenLoopOptions {
  host: string;
  port: number;
  /** Requests per second, sent on a fixed schedule whatever the answers. */
  rate: number;
  seconds: number;
  /** Connections are opened as requests need them, up to this many; past it, requests queue. */
  maxConnections: number;
  next: () => PlannedRequest;
}

/**
 * Open-loop load (no coordinated omission): request i is due at i / rate seconds after the start,
 * whatever happened to the ones before, and its latency is measured from that due time — so a
 * slow answer delays no later request's send, and time spent waiting for a free connection counts
 * against the system, as a real client's would. A connection carries one request at a time; a
 * due request takes an idle one, or opens a new one (up to maxConnections), or waits its turn.
 */
export async function runOpenLoop(
  options: OpenLoopOptions,
): Promise<{ outcomes: Outcome[]; connections: number }> {
  const outcomes: Outcome[] = [];
  const idle: LoadConnection[] = [];
  const waiting: ((connection: LoadConnection | null) => void)[] = [];
  let open = 0;
  const inFlight = new Set<Promise<void>>();
  const started = performance.now();
  const total = Math.round(options.rate * options.seconds);

  const release = (connection: LoadConnection) => {
    const next = waiting.shift();
    if (next) next(connection);
    else idle.push(connection);
  };
  const acquire = async (): Promise<LoadConnection | null> => {
    const ready = idle.pop();
    if (ready) return ready;
    if (open < options.maxConnections) {
      open++;
      try {
        return await LoadConnection.open(options.host, options.port);
      } catch {
        open--;
        return null;
      }
    }
    return new Promise((resolve) => waiting.push(resolve));
  };
  const send = async (planned: PlannedRequest, scheduledMs: number) => {
    let status = 0;
    const connection = await acquire();
    if (connection) {
      try {
        status = await connection.request(planned.head, planned.body);
        release(connection);
      } catch {
        connection.close();
        open--;
        // A request waiting for a connection gets a new one instead of the broken one (or none).
        const next = waiting.shift();
        if (next) void acquire().then(next);
      }
    }
    outcomes.push({
      kind: planned.kind,
      scheduledMs,
      latencyMs: performance.now() - started - scheduledMs,
      status,
    });
  };

  let sent = 0;
  while (sent < total) {
    const now = performance.now() - started;
    const due = Math.min(total, Math.floor((now / 1000) * options.rate) + 1);
    for (; sent < due; sent++) {
      const scheduledMs = (sent / options.rate) * 1000;
      const request = send(options.next(), scheduledMs).finally(() => inFlight.delete(request));
      inFlight.add(request);
    }
    // The next request's due time; the event loop runs answers in between.
    const wait = (sent / options.rate) * 1000 - (performance.now() - started);
    await new Promise((r) => setTimeout(r, Math.max(0, Math.min(wait, 5))));
  }
  await Promise.all(inFlight);
  const connections = open;
  for (const connection of idle) connection.close();
  return { outcomes, connections };
}

/** Per second of the schedule: requests due, answered 2xx, failed, and latency percentiles. */
export interface SecondRow {
  second: number;
  /** Requests scheduled in this second. */
  due: number;
  /** Of those, answered 2xx (whenever the answer came). */
  ok: number;
  /** 2xx answers that arrived during this second, whenever they were scheduled: the real throughput. */
  answered: number;
  failed: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

const at = (sorted: number[], p: number) =>
  sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

export function percentiles(latencies: number[]) {
  const sorted = [...latencies].sort((a, b) => a - b);
  return {
    p50: at(sorted, 50),
    p90: at(sorted, 90),
    p99: at(sorted, 99),
    p999: at(sorted, 99.9),
    max: sorted.length ? sorted[sorted.length - 1] : NaN,
  };
}

export function bySecond(outcomes: Outcome[]): SecondRow[] {
  const seconds = new Map<number, Outcome[]>();
  const answered = new Map<number, number>();
  for (const o of outcomes) {
    const s = Math.floor(o.scheduledMs / 1000);
    const list = seconds.get(s);
    if (list) list.push(o);
    else seconds.set(s, [o]);
    if (o.status >= 200 && o.status < 300) {
      const at = Math.floor((o.scheduledMs + o.latencyMs) / 1000);
      answered.set(at, (answered.get(at) ?? 0) + 1);
    }
  }
  // Seconds past the schedule still count the answers that arrived in them.
  const last = Math.max(-1, ...seconds.keys(), ...answered.keys());
  return Array.from({ length: last + 1 }, (_, second) => {
    const list = seconds.get(second) ?? [];
    const { p50, p90, p99, max } = percentiles(list.map((o) => o.latencyMs));
    const ok = list.filter((o) => o.status >= 200 && o.status < 300).length;
    return {
      second,
      due: list.length,
      ok,
      answered: answered.get(second) ?? 0,
      failed: list.length - ok,
      p50,
      p90,
      p99,
      max,
    };
  });
}

/** `transfers=70,events=20,orders=10` → a weighted pick that repeats the mix exactly every 100. */
export function parseMix(text: string): { kind: string; weight: number }[] {
  const mix = text.split(',').map((part) => {
    const [kind, weight] = part.split('=');
    const w = Number(weight);
    if (!kind || !Number.isInteger(w) || w < 0) throw new Error(`bad mix entry "${part}": use kind=weight`);
    return { kind: kind.trim(), weight: w };
  });
  if (mix.every((m) => m.weight === 0)) throw new Error('the mix has no weight');
  return mix;
}

/**
 * Deterministic interleaving of a mix: the kind that is furthest behind its share goes next, so
 * every window of the run carries the mix (no random clumps of one kind).
 */
export function mixSequence(mix: { kind: string; weight: number }[]): () => string {
  const total = mix.reduce((s, m) => s + m.weight, 0);
  const sent = new Map(mix.map((m) => [m.kind, 0]));
  let n = 0;
  return () => {
    n++;
    let best = mix[0];
    let bestDeficit = -Infinity;
    for (const m of mix) {
      const deficit = (n * m.weight) / total - sent.get(m.kind)!;
      if (deficit > bestDeficit) {
        best = m;
        bestDeficit = deficit;
      }
    }
    sent.set(best.kind, sent.get(best.kind)! + 1);
    return best.kind;
  };
}
