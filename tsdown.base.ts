import type { UserConfig } from 'tsdown';

// Every package is built alike: one entry, published twice — ESM for modern apps, CommonJS because
// most NestJS apps still compile to it — with declarations for both.
export const packageBuild: UserConfig = {
  entry: ['src/index.ts'],
  format: ['esm', 'cjs'],
  platform: 'node',
  target: 'node22',
  dts: true,
  sourcemap: true,
  clean: true,
};
