import { Command, Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { ShadowRedis } from '../../packages/redis-shadow/src/client/shadow-redis.ts';
import { startOriginAndShadow } from '../support/redis-server.ts';
import { commandStats, grown } from '../support/redis-oracles.ts';

// Attack round 4: RESET re-authenticates a connection as the server's `default` user (RESET is a
// no-auth command: every ACL user may run it, whatever its rules say). On the shadow, whose
// `default` user has no password and every right, a connection so reset is no longer the confined
// user the sandbox check was made for: a script sent on it could MIGRATE into the origin.
// Oracles: CLIENT LIST's user= on the shadow, the key on the origin.

const HOST = '127.0.0.1';
const MIGRATE_TO = (port: number): string => `return redis.call('MIGRATE', '${HOST}', '${port}', '', 0, 5000, 'COPY', 'REPLACE', 'KEYS', KEYS[1])`;

async function connectionUsers(admin: Redis): Promise<string[]> {
  const lines = String(await admin.call('CLIENT', 'LIST')).trim().split('\n');
  return lines.filter((line) => !/ name=oracle /.test(line) && !/ cmd=monitor/.test(line) && !/ cmd=client\|list/.test(line)).map((line) => /\buser=(\S+)/.exec(line)?.[1] ?? '?');
}

const codeOf = (promise: Promise<unknown>): Promise<string> =>
  promise.then(
    (value) => `ok ${String(value)}`,
    (error: Error & { code?: string }) => error.code ?? error.message,
  );

describe('attacks 4: RESET as re-authentication', () => {
  for (const via of ['call', 'sendCommand', 'pipeline', 'multi'] as const) {
    it(`RESET via ${via}: no shadow connection becomes the default user; a script cannot MIGRATE into the origin`, async () => {
      const servers = await startOriginAndShadow();
      const { origin, shadowAdmin, originAdmin } = servers;
      const outcomes: Record<string, string> = {};
      try {
        await originAdmin.set('fresh', 'origin value');
        const client = new ShadowRedis({ host: HOST, port: origin.port, connectionName: 'mirror' }, { shadow: servers.shadow.shadowUrl });
        client.on('error', () => undefined);
        try {
          await client.set('fresh', 'mirror value');
          if (via === 'call') outcomes.reset = await codeOf(client.call('RESET'));
          else if (via === 'sendCommand') {
            const reset = new Command('reset', []);
            client.sendCommand(reset);
            outcomes.reset = await codeOf(reset.promise);
          } else if (via === 'pipeline') outcomes.reset = await codeOf(client.pipeline().set('fresh', 'again').call('reset').exec().then((r) => JSON.stringify(r)));
          else outcomes.reset = await codeOf(client.multi().set('fresh', 'again').call('reset').exec().then((r) => JSON.stringify(r)));
          outcomes.users = (await connectionUsers(shadowAdmin)).filter((user) => user !== 'mirror-shadow').join(',');
          outcomes.migrate = await codeOf(client.eval(MIGRATE_TO(origin.port), 1, 'fresh'));
        } finally {
          await client.close();
        }
        outcomes.origin = String(await originAdmin.get('fresh'));
        console.log(via, outcomes);
        // Safe: no connection is anyone but the confined user, and the origin keeps its value.
        expect({ users: outcomes.users, origin: outcomes.origin }).toEqual({ users: '', origin: 'origin value' });
      } finally {
        await servers.stop();
      }
    }, 30_000);
  }

  it('connection-state commands that reach other sessions or the origin\'s state (CLIENT TRACKING REDIRECT, CLIENT REPLY, CLIENT NO-EVICT, CLIENT PAUSE/UNPAUSE, WAIT) do not reach the origin; HELLO 3 is only a protocol switch', async () => {
    const servers = await startOriginAndShadow();
    const { origin, originAdmin } = servers;
    const outcomes: Record<string, string> = {};
    try {
      await originAdmin.set('k', 'v');
      const victimId = String(await originAdmin.call('CLIENT', 'ID'));
      const before = await commandStats(originAdmin);
      const client = new ShadowRedis({ host: HOST, port: origin.port, connectionName: 'mirror' }, { shadow: servers.shadow.shadowUrl });
      client.on('error', () => undefined);
      try {
        await client.get('k');
        const attempts: Array<[string, ...string[]]> = [
          ['CLIENT', 'TRACKING', 'ON', 'REDIRECT', victimId, 'BCAST'],
          ['CLIENT', 'CACHING', 'YES'],
          ['CLIENT', 'NO-EVICT', 'ON'],
          ['CLIENT', 'NO-TOUCH', 'ON'],
          ['CLIENT', 'UNPAUSE'],
          ['CLIENT', 'PAUSE', '100'],
          ['CLIENT', 'REPLY', 'SKIP'],
          ['WAIT', '0', '0'],
          ['WAITAOF', '0', '0', '0'],
          ['HELLO', '3'],
        ];
        for (const [name, ...args] of attempts) outcomes[`${name} ${args.join(' ')}`] = await Promise.race([
          codeOf(client.call(name, ...args)),
          new Promise<string>((resolve) => setTimeout(() => resolve('timeout'), 1000)),
        ]);
      } finally {
        await client.close();
      }
      const after = await commandStats(originAdmin);
      console.log(JSON.stringify(outcomes), grown(before, after).join(' '));
      const reached = grown(before, after).filter((name) => /tracking|caching|no-evict|no-touch|unpause|pause|reply|wait/i.test(name));
      expect(reached).toEqual([]);
    } finally {
      await servers.stop();
    }
  }, 60_000);

  // Same class as db-readonly's fd write: app code below the client. redis-shadow has no check on
  // the origin socket's bytes at all (only what ioredis writes for a judged Command is caught), so
  // the origin's ACL user is the only backstop: with the default user the write lands.
  it.fails('HOLE: raw RESP written on the origin connection\'s socket (client.stream.write) reaches the origin unjudged', async () => {
    const servers = await startOriginAndShadow();
    const { origin, originAdmin } = servers;
    try {
      await originAdmin.set('k', 'origin value');
      const client = new ShadowRedis({ host: HOST, port: origin.port, connectionName: 'mirror' }, { shadow: servers.shadow.shadowUrl });
      client.on('error', () => undefined);
      try {
        await client.get('k');
        const socket = (client as unknown as { stream: { write(data: string): boolean } }).stream;
        socket.write('*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$4\r\nevil\r\n');
        await new Promise((resolve) => setTimeout(resolve, 200));
      } finally {
        await client.close().catch(() => undefined);
      }
      expect(await originAdmin.get('k')).toBe('origin value');
    } finally {
      await servers.stop();
    }
  }, 30_000);
});
