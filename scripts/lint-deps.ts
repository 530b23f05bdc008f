// The layering check (`npm run lint:deps`): runs dependency-cruiser over packages/*/src with the
// rules of .dependency-cruiser.cjs, prints the violations, and exits 1 on any error-level one, or
// when too few modules were cruised. The second guard is there because a cruise that cannot parse
// TypeScript (no usable parser) reports "0 modules cruised" and passes: a check that cannot fail.
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { format, type ICruiseResult } from 'dependency-cruiser';

/** packages/*\/src holds about 170 modules (tests excluded); far fewer means the cruise is broken. */
const MIN_SOURCE_MODULES = 100;
const CONFIG = '.dependency-cruiser.cjs';

// The package's main is src/main/index.mjs; its CLI is bin/dependency-cruiser.mjs beside src/.
const bin = fileURLToPath(new URL('../../bin/dependency-cruiser.mjs', import.meta.resolve('dependency-cruiser')));
const roots = readdirSync('packages', { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => `packages/${entry.name}/src`);

let json: string;
try {
  json = execFileSync(process.execPath, [bin, '--config', CONFIG, '--output-type', 'json', ...roots], {
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
} catch (error) {
  // depcruise exits with the number of errors; its JSON is still on stdout.
  const stdout = (error as { stdout?: string }).stdout;
  if (typeof stdout !== 'string' || !stdout.startsWith('{')) throw error;
  json = stdout;
}
const result = JSON.parse(json) as ICruiseResult;

const report = await format(result, { outputType: 'err' });
process.stdout.write(String(report.output));

const sources = result.modules.filter((module) => /^packages\/[^/]+\/src\//.test(module.source)).length;
const count = (severity: string): number => result.summary.violations.filter((violation) => violation.rule.severity === severity).length;
const errors = count('error');
const warnings = count('warn');
console.log(`lint:deps: ${sources} source modules of packages/*/src cruised (${result.summary.totalCruised} modules in all), ${errors} errors, ${warnings} warnings`);

if (sources < MIN_SOURCE_MODULES) {
  console.error(`lint:deps: only ${sources} source modules cruised (at least ${MIN_SOURCE_MODULES} expected): dependency-cruiser did not read the TypeScript sources`);
  process.exit(1);
}
if (errors > 0) process.exit(1);
