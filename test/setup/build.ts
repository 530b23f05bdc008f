import { execFileSync } from 'node:child_process';
import { ROOT } from '../support/workspace-packages.ts';
import { assertNodeVersion } from './node-version.ts';

// The package checks read what `npm run build` makes; build it fresh so they never check stale output.
export default function build(): void {
  assertNodeVersion();
  execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
}
