/**
 * Crash points for fault-injection tests. `TALLY_FAULTS=worker.before-commit:after=20` lets the
 * point pass 20 times and kills the process with SIGKILL the 21st time, exactly as a power cut
 * would (`:after=0`, the default, dies on the first pass). Several points: comma-separated.
 * Ignored when NODE_ENV=production; an unknown point or a malformed spec stops the process at
 * start-up, so a typo cannot make a fault test pass without its fault.
 */
const FAULT_POINTS = [
  /** The outbox relay: the broker confirmed the batch, the rows are not yet marked published. */
  'relay.after-confirm',
  /** The transaction worker: a batch's inbox rows and postings are written, not yet committed. */
  'worker.before-commit',
  /** The transaction worker: the batch is committed, its messages are not yet acked. */
  'worker.after-commit',
  /** The transaction worker: an order is captured and its units sold, not yet committed. */
  'worker.order-before-commit',
  /** The gateway: an accept batch is committed, none of its requests answered yet. */
  'gateway.after-accept-commit',
  /** The payout dispatcher: the provider answered a payout, the answer is not yet recorded. */
  'payout.after-provider-call',
] as const;

export type FaultPoint = (typeof FAULT_POINTS)[number];

export function parseFaults(spec: string): Map<FaultPoint, number> {
  const armed = new Map<FaultPoint, number>();
  for (const part of spec
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const match = /^([a-z.-]+)(?::after=(\d+))?$/.exec(part);
    if (!match || !(FAULT_POINTS as readonly string[]).includes(match[1])) {
      throw new Error(
        `TALLY_FAULTS: "${part}" is not <point>[:after=<n>] with a point among ${FAULT_POINTS.join(', ')}`,
      );
    }
    armed.set(match[1] as FaultPoint, Number(match[2] ?? 0));
  }
  return armed;
}

const armed =
  process.env.NODE_ENV === 'production'
    ? new Map<FaultPoint, number>()
    : parseFaults(process.env.TALLY_FAULTS ?? '');

export function faultPoint(name: FaultPoint): void {
  const passesLeft = armed.get(name);
  if (passesLeft === undefined) return;
  if (passesLeft === 0) process.kill(process.pid, 'SIGKILL');
  armed.set(name, passesLeft - 1);
}
