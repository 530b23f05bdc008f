import { execFile } from 'node:child_process';
import { mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startOriginAndShadow } from '../support/redis-server.ts';
import { installBuiltPackages, ROOT } from '../support/workspace-packages.ts';

// ioredis 6 speaks RESP3 and authenticates with HELLO 3 AUTH: the built packages beside it, on a
// private origin (with an ACL user) and shadow, for what the handshake and script tracking depend on.
describe('@mirrorguard/redis-shadow on ioredis 6: authentication and what scripts write', () => {
  it('HELLO 3 AUTH as the configured user works, another user is refused; a script\'s undeclared write is read back from the shadow', async () => {
    const servers = await startOriginAndShadow();
    try {
      await servers.originAdmin.call('ACL', 'SETUSER', 'mirror', 'on', '>mirror-pw', '~*', '&*', '+@all');
      await servers.originAdmin.set('k', 'origin value');
      const app = mkdtempSync(join(tmpdir(), 'mirrorguard-ioredis6-holes-'));
      const modules = join(app, 'node_modules');
      installBuiltPackages(modules, ['core', 'redis-shadow']);
      symlinkSync(join(ROOT, 'node_modules', 'ioredis6'), join(modules, 'ioredis'), 'dir');
      writeFileSync(
        join(app, 'probe.mjs'),
        `
        import { createRequire } from 'node:module';
        import { ShadowRedis } from '@mirrorguard/redis-shadow';
        const version = createRequire(import.meta.url)('ioredis/package.json').version;
        const c = new ShadowRedis({ host: '127.0.0.1', port: ${servers.origin.port}, username: 'mirror', password: 'mirror-pw' }, { shadow: ${JSON.stringify(servers.shadow.shadowUrl)} });
        const code = (p) => p.then((v) => v, (e) => e.code ?? e.message);
        const out = { version };
        out.get = await c.get('k');
        out.script = await c.eval("redis.call('SET', ARGV[1], 'script value'); return 1", 0, 'u');
        out.afterScript = await code(c.get('u'));
        out.pipeline = await code(c.pipeline().eval("redis.call('SET', ARGV[1], 'p'); return 1", 0, 'u2').get('u2').exec());
        out.authOther = await code(c.call('AUTH', 'default', 'x'));
        out.helloConfigured = await code(c.call('HELLO', '3', 'AUTH', 'mirror', 'mirror-pw').then(() => 'ok'));
        console.log(JSON.stringify(out));
        await c.close();
        `,
      );
      // The probe must also end by itself: close() leaves no connection open.
      const { stdout: output } = await promisify(execFile)(process.execPath, ['probe.mjs'], { cwd: app, encoding: 'utf8', timeout: 30_000 });
      expect(JSON.parse(output.trim().split('\n').at(-1)!)).toEqual({
        version: expect.stringMatching(/^6\./),
        get: 'origin value',
        script: 1,
        afterScript: 'script value',
        pipeline: [[null, 1], [null, 'p']],
        authOther: 'MG_ERR_REDIS_REFUSED',
        helloConfigured: 'ok',
      });
      expect(await servers.shadowAdmin.mget('u', 'u2')).toEqual(['script value', 'p']);
      expect(await servers.originAdmin.exists('u', 'u2')).toBe(0);
    } finally {
      await servers.stop();
    }
  });
});
