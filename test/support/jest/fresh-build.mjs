// The apps the tests start run from dist/ (as in production), and so does the run's set-up:
// before either, dist/ must be at least as new as the sources. `npm test` builds first; a Jest
// started some other way builds here when a source is newer than the last build.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync, utimesSync } from 'node:fs';
import path from 'node:path';

const SOURCES = ['apps', 'libs', 'tools', 'test/support', 'package.json', 'tsconfig.json'];

function newest(file) {
  const stat = statSync(file);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(0, ...readdirSync(file).map((entry) => newest(path.join(file, entry))));
}

export function ensureFreshBuild(root) {
  const stamp = path.join(root, 'dist/.tsbuildinfo');
  const built = existsSync(stamp) ? statSync(stamp).mtimeMs : 0;
  const changed = Math.max(...SOURCES.map((s) => newest(path.join(root, s))));
  if (changed <= built) return;
  console.log('[test] dist/ is older than the sources: npm run build');
  execFileSync('npm', ['run', '--silent', 'build'], { cwd: root, stdio: 'inherit' });
  // tsc leaves its stamp alone when nothing it emits changed (a file saved as it was).
  const now = new Date();
  utimesSync(stamp, now, now);
}
