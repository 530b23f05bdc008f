import { defineConfig } from 'tsdown';

// One entry, published twice: ESM for modern apps, CommonJS because most NestJS apps still compile to it.
export default defineConfig({
  entry: ['src/index.ts'],
  format: ['esm', 'cjs'],
  platform: 'node',
  target: 'node22',
  dts: true,
  sourcemap: true,
  clean: true,
});
