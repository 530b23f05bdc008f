// The MONITOR oracle the leak tests and the demo rely on reads every argument back exactly: a
// command it misread could hide a write. Checked against a private server with seeded arguments
// made of every byte, quotes, backslashes and line breaks.
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisMonitor } from '../support/redis-monitor.ts';
import { startRedisServer, type ThrowawayRedis } from '../support/redis-server.ts';
import { rng } from '../support/seeded-random.ts';

describe('the MONITOR oracle', () => {
  let server: ThrowawayRedis;
  let client: Redis;
  let monitor: RedisMonitor;

  beforeAll(async () => {
    server = await startRedisServer();
    client = new Redis(server.url);
    await client.ping();
    monitor = await RedisMonitor.open(server.url);
  });

  afterAll(async () => {
    monitor.disconnect();
    client.disconnect();
    await server.kill();
  });

  it('reads back every argument of every command, byte for byte, with its source and database', async () => {
    const random = rng(7);
    const seen: Array<{ args: string[]; source: string; database: string }> = [];
    monitor.on('monitor', (_time: string, args: string[], source: string, database: string) => seen.push({ args, source, database }));
    const sent: string[][] = [];
    const special = ['"', '\\', '\r', '\n', '\t', ' ', '" "', '\\"', '\x07', '\b', '\x00', '\xff', ''];
    for (let n = 0; n < 200; n += 1) {
      const length = Math.floor(random() * 12);
      let value = '';
      for (let i = 0; i < length; i += 1) value += random() < 0.3 ? special[Math.floor(random() * special.length)] : String.fromCharCode(Math.floor(random() * 256));
      const argv = ['ECHO', value];
      sent.push(argv);
      await client.call('ECHO', Buffer.from(value, 'latin1'));
    }
    await client.call('SELECT', '3');
    await client.call('ECHO', 'in 3');
    await client.call('ECHO', 'fence');
    for (let at = 0; !seen.some(({ args }) => args[1] === 'fence'); at += 1) await client.ping();
    const echoes = seen.filter(({ args }) => args[0]?.toLowerCase() === 'echo');
    expect(echoes.slice(0, sent.length).map(({ args }) => ['ECHO', args[1]])).toEqual(sent);
    const own = `127.0.0.1:${(client as unknown as { stream: { localPort: number } }).stream.localPort}`;
    expect(echoes.every(({ source }) => source === own)).toBe(true);
    expect(echoes.find(({ args }) => args[1] === 'in 3')?.database).toBe('3');
  });
});
