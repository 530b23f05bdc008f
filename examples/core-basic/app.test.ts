import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createGuards, getEgressLockdown, memorySink, type Profile } from '@mirrorguard/core';
import { createApp } from './app.ts';
import { noteStoreProvider } from './note-store-provider.ts';

const SEED = [{ id: 1, text: 'buy milk' }];

async function serve(profile: Profile) {
  const file = join(mkdtempSync(join(tmpdir(), 'notes-')), 'notes.json');
  writeFileSync(file, JSON.stringify(SEED));
  const sink = memorySink();
  const guards = await createGuards({ profile, providers: { notes: noteStoreProvider(file) }, journal: { sinks: [sink] } });
  const server: Server = createApp(guards.notes).listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  // A mirror refuses every connection it was not told of, this test's own calls to the app too.
  getEgressLockdown()?.allow(new URL(base).host, 'the app under test', 'app.test');
  const call = (method: string, path: string, body?: unknown) =>
    fetch(`${base}${path}`, {
      method,
      headers: { 'content-type': 'application/json', 'x-request-id': `${method}-${path}` },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  const stop = async () => {
    await new Promise((resolve) => server.close(resolve));
    await guards.close();
    // The lockdown outlives the guards (a closing mirror keeps refusing); the next test runs another profile.
    getEgressLockdown()?.dispose();
  };
  const fileState = () => createHash('sha256').update(readFileSync(file)).digest('hex');
  return { call, sink, stop, file, fileState };
}

// The same app in every profile; only the profile differs.
describe('the notes example', () => {
  let stop: (() => Promise<void>) | undefined;
  afterEach(async () => stop?.());

  it('live: writes the file and journals nothing', async () => {
    const service = await serve('live');
    stop = service.stop;
    expect((await service.call('POST', '/notes', { text: 'new' })).status).toBe(201);
    expect(JSON.parse(readFileSync(service.file, 'utf8'))).toEqual([...SEED, { id: 2, text: 'new' }]);
    expect(service.sink.events()).toEqual([]);
  });

  it('record: writes the file and journals each write with its request id', async () => {
    const service = await serve('record');
    stop = service.stop;
    await service.call('POST', '/notes', { text: 'new' });
    expect((await service.call('DELETE', '/notes/1')).status).toBe(204);
    expect(JSON.parse(readFileSync(service.file, 'utf8'))).toEqual([{ id: 2, text: 'new' }]);
    expect(service.sink.events()).toMatchObject([
      { requestId: 'POST-/notes', action: 'recorded', operation: 'add "new"', profile: 'record' },
      { requestId: 'DELETE-/notes/1', action: 'recorded', operation: 'remove 1', profile: 'record' },
    ]);
  });

  it('mirror: reads the real file, never changes it, journals what it simulated and blocked', async () => {
    const service = await serve('mirror');
    stop = service.stop;
    const before = service.fileState();
    expect(await (await service.call('GET', '/notes')).json()).toEqual(SEED);
    const added = await service.call('POST', '/notes', { text: 'new' });
    expect(added.status).toBe(201);
    expect(await added.json()).toMatchObject({ text: 'new' });
    expect((await service.call('DELETE', '/notes/1')).status).toBe(204);
    expect((await service.call('DELETE', '/notes/99')).status).toBe(404);
    expect(service.fileState()).toBe(before);
    // Besides its own effects, a mirror started without the egress preload journals that warning first.
    expect(service.sink.events()[0]).toMatchObject({ dependency: 'network', action: 'warned' });
    expect(service.sink.events().slice(1)).toMatchObject([
      { requestId: 'POST-/notes', action: 'simulated', operation: 'add "new"', profile: 'mirror' },
      { requestId: 'DELETE-/notes/1', action: 'blocked', operation: 'remove 1' },
      { requestId: 'DELETE-/notes/99', action: 'blocked', operation: 'remove 99' },
    ]);
  });

  it('test: works on memory only', async () => {
    const service = await serve('test');
    stop = service.stop;
    const before = service.fileState();
    expect(await (await service.call('GET', '/notes')).json()).toEqual([]);
    await service.call('POST', '/notes', { text: 'new' });
    expect(await (await service.call('GET', '/notes')).json()).toEqual([{ id: 1, text: 'new' }]);
    expect(service.fileState()).toBe(before);
  });
});
