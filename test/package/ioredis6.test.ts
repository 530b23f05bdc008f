import { execFileSync } from 'node:child_process';
import { mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startRedisServer } from '../support/redis-server.ts';
import { installBuiltPackages, ROOT } from '../support/workspace-packages.ts';

// The peer range says ioredis ^5 || ^6; the repository develops against 5. Here the built packages
// are installed beside ioredis 6 (RESP3 by default) and a ShadowRedis runs a short workload.
describe('@mirrorguard/redis-shadow on ioredis 6', () => {
  it('routes reads, writes, pipelines and transactions the same way', async () => {
    // Origin and shadow are servers of the test's own (a shadow on the origin's server is refused),
    // fresh: they hold nothing but what the probe writes.
    const [originServer, shadowServer] = await Promise.all([startRedisServer(), startRedisServer()]);
    const app = mkdtempSync(join(tmpdir(), 'mirrorguard-ioredis6-'));
    const modules = join(app, 'node_modules');
    installBuiltPackages(modules, ['core', 'redis-shadow']);
    // Node resolves a symlinked package from its real path, so ioredis 6 finds its own dependencies.
    symlinkSync(join(ROOT, 'node_modules', 'ioredis6'), join(modules, 'ioredis'), 'dir');
    writeFileSync(
      join(app, 'probe.mjs'),
      `
      import { Redis } from 'ioredis';
      import { ShadowRedis } from '@mirrorguard/redis-shadow';
      import { createRequire } from 'node:module';
      const version = createRequire(import.meta.url)('ioredis/package.json').version;
      const origin = ${JSON.stringify(`${originServer.url}/7`)}, shadowUrl = ${JSON.stringify(shadowServer.shadowUrl)};
      const admin = new Redis(origin); await admin.set('c', '10'); await admin.hset('h', { a: '1' });
      const c = new ShadowRedis(origin, { shadow: shadowUrl });
      const out = { version };
      out.get = await c.get('c');
      out.incr = await c.incr('c');
      out.hgetall = (await c.hset('h', 'b', '2'), await c.hgetall('h'));
      out.pipeline = await c.pipeline().get('c').incr('c').get('c').exec();
      out.multi = await c.multi().incr('c').hgetall('h').exec();
      out.keys = (await c.keys('*')).sort();
      out.publish = await c.publish('x', 'y');
      out.origin = [await admin.get('c'), await admin.hgetall('h')];
      console.log(JSON.stringify(out));
      await c.close(); admin.disconnect();
      `,
    );
    const output = await Promise.resolve()
      .then(() => execFileSync(process.execPath, ['probe.mjs'], { cwd: app, encoding: 'utf8', timeout: 30_000 }))
      .finally(() => Promise.all([originServer.kill(), shadowServer.kill()]));
    expect(JSON.parse(output.trim().split('\n').at(-1)!)).toEqual({
      version: expect.stringMatching(/^6\./),
      get: '10',
      incr: 11,
      hgetall: { a: '1', b: '2' },
      pipeline: [[null, '11'], [null, 12], [null, '12']],
      multi: [[null, 13], [null, { a: '1', b: '2' }]],
      keys: ['c', 'h'],
      publish: 0,
      origin: ['10', { a: '1' }],
    });
  });
});
