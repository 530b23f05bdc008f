import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A new directory for a private server's files: under the test run's own directory when the
 * integration tests' global setup made one (removed with the run, whatever a test left behind),
 * else under the system's temporary directory.
 */
export function privateDir(prefix: string): string {
  return mkdtempSync(join(process.env.MIRRORGUARD_TEST_TMP ?? tmpdir(), prefix));
}
