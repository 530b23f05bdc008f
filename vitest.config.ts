import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const source = (path: string): string => fileURLToPath(new URL(path, import.meta.url));

// Tests import the packages' sources; the `package` project checks what `npm pack` would publish.
export default defineConfig({
  resolve: {
    alias: {
      '@mirrorguard/core': source('./packages/core/src/index.ts'),
      '@mirrorguard/db-readonly': source('./packages/db-readonly/src/index.ts'),
      '@mirrorguard/http-stub': source('./packages/http-stub/src/index.ts'),
      '@mirrorguard/nest': source('./packages/nest/src/index.ts'),
      '@mirrorguard/redis-shadow': source('./packages/redis-shadow/src/index.ts'),
    },
  },
  test: {
    reporters: ['default'],
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['packages/*/src/**/*.test.ts'],
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/**/*.test.ts', 'examples/**/*.test.ts'],
          exclude: ['test/package/**'],
          globalSetup: ['test/setup/services.ts'],
          // The files share one MariaDB and one Redis: one at a time, so no check sees another's writes.
          fileParallelism: false,
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'package',
          include: ['test/package/**/*.test.ts'],
          globalSetup: ['test/setup/build.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
