// Runs the tiers in this order, and each tier's files by path: unit tests first (fastest to fail),
// the fault-injection suite last (it stops and restarts the shared services), and within e2e the
// whole-database ledger check (zz-ledger-verify) after everything else has written to it.
import Sequencer from '@jest/test-sequencer';

export const TIERS = ['unit', 'integration', 'service', 'api', 'e2e', 'faults'];

const tierOf = (test) => {
  const name = test.context.config.displayName?.name;
  return TIERS.includes(name) ? TIERS.indexOf(name) : TIERS.length;
};

export default class TierSequencer extends Sequencer {
  sort(tests) {
    return [...tests].sort(
      (a, b) => tierOf(a) - tierOf(b) || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0),
    );
  }
}
