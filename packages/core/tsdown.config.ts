import { defineConfig } from 'tsdown';
import { packageBuild } from '../../tsdown.base.ts';

export default defineConfig([
  packageBuild,
  // The `mirrorguard` command (diff, report): ESM only, as a bin needs no CommonJS twin.
  { ...packageBuild, entry: { cli: 'src/cli/bin.ts' }, format: ['esm'], dts: false, clean: false },
]);
