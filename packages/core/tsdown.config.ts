import { defineConfig } from 'tsdown';
import { packageBuild } from '../../tsdown.base.ts';

export default defineConfig([
  packageBuild,
  // The `mirrorguard` command (diff, report): ESM only, as a bin needs no CommonJS twin.
  { ...packageBuild, entry: { cli: 'src/cli/bin.ts' }, format: ['esm'], dts: false, clean: false },
  // The egress preload: CommonJS, because worker threads run `--require` and not `--import` (and
  // `--import` loads CommonJS too). Its own bundle shares the lockdown with the others (a global key).
  // Its declarations (nothing but the variable's name) are there for resolvers that ask for types.
  { ...packageBuild, entry: { 'egress-preload': 'src/egress/egress-preload.ts' }, format: ['cjs'], clean: false },
]);
