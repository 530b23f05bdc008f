import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createConnection } from 'mysql2/promise';
import { freePort } from './free-port.ts';

export interface ThrowawayMariadb {
  readonly host: string;
  readonly port: number;
  /** The root user, with no password (the server is private: loopback, a free port, its own data). */
  readonly user: string;
  /** `mysql://root@127.0.0.1:<port>`: as MYSQL_URL names the shared server, with no database. */
  readonly url: string;
  /** Its temporary directory: data, binary logs, the socket and `files/`. */
  readonly dir: string;
  /** The server's `secure_file_priv`: the only directory INTO OUTFILE / DUMPFILE may write to. */
  readonly filesDir: string;
  /** Kills the server (SIGKILL) and removes its directory. */
  kill(): Promise<void>;
}

// Debian puts mariadbd in /usr/sbin, which is not on every user's PATH.
const MARIADBD = existsSync('/usr/sbin/mariadbd') ? '/usr/sbin/mariadbd' : 'mariadbd';

async function run(command: string, args: readonly string[]): Promise<void> {
  const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  if (code !== 0) throw new Error(`${command} exited with ${code}: ${stderr.slice(-2000)}`);
}

/**
 * Starts a MariaDB server of its own — a fresh data directory under the system temp dir, a free
 * loopback port, the binary log on, `secure_file_priv` pointing at `files/` — for tests that must
 * change server-wide state or watch it (global variables, binlog position, files) without touching
 * the shared server. Needs `mariadb-install-db` and `mariadbd` (scripts/ensure-services.sh installs
 * mariadb-server). `args`: more server options (TLS certificates, a larger max_allowed_packet).
 */
export async function startMariadbServer({ args = [] }: { args?: readonly string[] } = {}): Promise<ThrowawayMariadb> {
  const dir = mkdtempSync(join(tmpdir(), 'mirrorguard-mariadb-'));
  const data = join(dir, 'data');
  const filesDir = join(dir, 'files');
  mkdirSync(filesDir);
  // As root, mariadbd needs --user=root; otherwise it runs as whoever started it.
  const user = process.getuid?.() === 0 ? ['--user=root'] : [];
  let child: ChildProcess | undefined;
  // Should the process end before kill() has finished (a torn-down test worker), the server and its
  // directory go with it.
  const cleanUp = (): void => {
    if (child !== undefined && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', cleanUp);
  const kill = async (): Promise<void> => {
    if (child !== undefined && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await once(child, 'exit');
    }
    rmSync(dir, { recursive: true, force: true });
    process.off('exit', cleanUp);
  };
  try {
    await run('mariadb-install-db', [
      '--no-defaults',
      '--auth-root-authentication-method=normal',
      `--datadir=${data}`,
      '--skip-test-db',
      '--skip-name-resolve',
      ...user,
    ]);
    const port = await freePort();
    child = spawn(
      MARIADBD,
      [
        '--no-defaults',
        ...user,
        `--datadir=${data}`,
        `--socket=${join(dir, 'mariadb.sock')}`,
        `--pid-file=${join(dir, 'mariadb.pid')}`,
        `--port=${port}`,
        '--bind-address=127.0.0.1',
        '--skip-name-resolve',
        `--log-bin=${join(dir, 'binlog')}`,
        '--server-id=1',
        `--secure-file-priv=${filesDir}`,
        `--log-error=${join(dir, 'error.log')}`,
        '--innodb-buffer-pool-size=32M',
        '--innodb-log-file-size=16M',
        '--performance-schema=OFF',
        ...args,
      ],
      { stdio: 'ignore' },
    );
    let spawnError: Error | undefined;
    child.on('error', (error) => (spawnError = error));
    // Refused connections are expected until the server listens; a bounded number of attempts.
    for (let attempt = 0; ; attempt += 1) {
      if (spawnError !== undefined) throw new Error(`mariadbd did not start (${spawnError.message}); scripts/ensure-services.sh installs it`);
      if (child.exitCode !== null) throw new Error(`mariadbd exited with ${child.exitCode}; see ${join(dir, 'error.log')}`);
      try {
        const probe = await createConnection({ host: '127.0.0.1', port, user: 'root', connectTimeout: 1000 });
        await probe.end();
        break;
      } catch (error) {
        if (attempt > 300) throw new Error(`mariadbd on port ${port} did not start: ${(error as Error).message}`);
        await sleep(50);
      }
    }
    return { host: '127.0.0.1', port, user: 'root', url: `mysql://root@127.0.0.1:${port}`, dir, filesDir, kill };
  } catch (error) {
    await kill();
    throw error;
  }
}
