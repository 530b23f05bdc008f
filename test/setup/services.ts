import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createConnection } from 'mysql2/promise';
import { MYSQL_URL, REDIS_URL } from '../support/servers.ts';
import { assertNodeVersion } from './node-version.ts';

async function redisPing(url: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port || 6379), hostname, () => socket.write('PING\r\n'));
    socket.setTimeout(3000, () => socket.destroy(new Error('timed out')));
    socket.once('data', (data) => {
      socket.end();
      resolve(data.toString().trim());
    });
    socket.once('error', reject);
  });
}

// Integration tests never skip: a missing server fails the run here, with the fix in the message.
// Returns the teardown: the private servers' directories of this run (test/support/private-dir.ts)
// are removed with it, whatever a test left behind.
export default async function checkServers(): Promise<() => void> {
  assertNodeVersion();
  const runDir = mkdtempSync(join(tmpdir(), 'mirrorguard-test-run-'));
  process.env.MIRRORGUARD_TEST_TMP = runDir;
  const hint = 'start it with `npm run services` (npm test does this first), or point the URL at a running server';
  try {
    const connection = await createConnection(MYSQL_URL);
    await connection.query('SELECT 1');
    await connection.end();
  } catch (error) {
    throw new Error(`MariaDB at ${MYSQL_URL} is not usable (${(error as Error).message}): ${hint}`);
  }
  const pong = await redisPing(REDIS_URL).catch((error: unknown) => (error as Error).message);
  if (pong !== '+PONG') throw new Error(`Redis at ${REDIS_URL} did not answer PING (${pong}): ${hint}`);
  return () => rmSync(runDir, { recursive: true, force: true });
}
