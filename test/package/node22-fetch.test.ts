import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { installBuiltPackages, ROOT } from '../support/workspace-packages.ts';

// Node's built-in fetch runs on the undici bundled with Node: 7 in Node 24 (what the repository
// uses), 6 in Node 22. Here the built http-stub runs under a Node 22 (from the npm registry's `node`
// package): install() must catch the built-in fetch there too, record it, and replay it.
describe('@mirrorguard/http-stub and Node 22\'s built-in fetch', () => {
  it('records and replays global fetch, and fails a miss closed', () => {
    const app = mkdtempSync(join(tmpdir(), 'mirrorguard-node22-'));
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'node22-probe', private: true, type: 'module', allowScripts: { node: true } }));
    execFileSync('npm', ['install', '--silent', '--no-audit', '--no-fund', 'node@22'], { cwd: app, stdio: 'ignore', timeout: 120_000 });
    const modules = join(app, 'node_modules');
    installBuiltPackages(modules, ['core', 'http-stub']);
    // Node resolves a symlinked package from its real path, so these find their own dependencies.
    for (const name of ['undici', '@mswjs/interceptors']) {
      mkdirSync(join(modules, name, '..'), { recursive: true });
      symlinkSync(join(ROOT, 'node_modules', name), join(modules, name), 'dir');
    }
    writeFileSync(
      join(app, 'probe.mjs'),
      `
      import { createServer } from 'node:http';
      import { withRequestContext } from '@mirrorguard/core';
      import { createHttpStub, harStore } from '@mirrorguard/http-stub';
      let hits = 0;
      const server = createServer((request, response) => { hits += 1; response.setHeader('content-type', 'application/json'); response.end(JSON.stringify({ hit: hits, url: request.url })); });
      await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
      const origin = 'http://127.0.0.1:' + server.address().port;
      const file = new URL('./recording.har', import.meta.url).pathname;
      const call = () => withRequestContext({ requestId: 'r-1' }, () => fetch(origin + '/pay', { method: 'POST', body: '{"amount":5}', headers: { 'content-type': 'application/json' } }).then((r) => r.json()));
      const out = { node: process.version, bundledUndici: process.versions.undici };
      const recorder = createHttpStub({ mode: 'record', store: harStore({ file }) });
      recorder.install();
      out.recorded = await call();
      await recorder.dispose();
      const replayer = createHttpStub({ mode: 'replay', store: harStore({ file }) });
      replayer.install();
      out.replayed = await call();
      out.miss = await call().catch((error) => error.cause?.code ?? String(error));
      await replayer.dispose();
      out.hits = hits;
      out.closed = await call().catch((error) => error.cause?.code ?? String(error));
      replayer.reopenNetwork();
      out.after = await call();
      console.log(JSON.stringify(out));
      server.close();
      `,
    );
    const output = execFileSync(join(modules, '.bin', 'node'), ['probe.mjs'], { cwd: app, encoding: 'utf8', timeout: 60_000 });
    expect(JSON.parse(output.trim().split('\n').at(-1)!)).toEqual({
      node: expect.stringMatching(/^v22\./),
      bundledUndici: expect.stringMatching(/^6\./),
      recorded: { hit: 1, url: '/pay' },
      replayed: { hit: 1, url: '/pay' },
      miss: 'MG_ERR_HTTP_NO_RECORDING',
      hits: 1,
      closed: 'MG_ERR_HTTP_STUB_CLOSED',
      after: { hit: 2, url: '/pay' },
    });
  }, 180_000);
});
