/**
 * Crash points for fault-injection tests: `TALLY_FAULTS=relay.after-confirm` makes the process die
 * with SIGKILL at that point, exactly as a power cut would. Ignored when NODE_ENV=production.
 */
const enabled = new Set(
  process.env.NODE_ENV === 'production'
    ? []
    : (process.env.TALLY_FAULTS ?? '')
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
);

export type FaultPoint = 'relay.after-confirm';

export function faultPoint(name: FaultPoint): void {
  if (enabled.has(name)) process.kill(process.pid, 'SIGKILL');
}
