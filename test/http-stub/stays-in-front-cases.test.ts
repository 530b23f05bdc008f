import http from 'node:http';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createJournal, memorySink, MirrorGuardError, withRequestContext } from '@mirrorguard/core';
import * as undici from 'undici';
import * as undici6 from 'undici6';
import * as undici7 from 'undici7';
import WebSocketClient from 'ws';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createHttpStub, harStore, type ExchangeStore, type HttpStub, type RecordedExchange } from '../../packages/http-stub/src/index.ts';
import { startByteSentinel, type ByteSentinel } from '../support/byte-sentinel.ts';
import { outcomeOf, type Outcome } from '../support/http-stub-clients.ts';
import { privateDir } from '../support/private-dir.ts';

// The stub stays in front (issue 13, class 1): the cases the generative test draws only by chance,
// each against a sentinel that counts every connection and byte it receives.

const folder = privateDir('mirrorguard-stays-in-front-cases-');
const empty = join(folder, 'empty.har');
writeFileSync(empty, JSON.stringify({ log: { version: '1.2', creator: { name: 'test', version: '0' }, entries: [] } }));

/** http.request as it was when this file loaded, before any stub: a library that copied it keeps this one. */
const copiedRequest = http.request;

/** node:http through `agent`, with the method, headers and body as given. */
function nodeRequest(origin: string, method: string, { agent, headers = {}, body }: { agent?: http.Agent | false; headers?: Record<string, string>; body?: string } = {}): Promise<Outcome> {
  return new Promise((resolve) => {
    const request = http.request(`${origin}/pay`, { method, headers, ...(agent !== undefined && { agent }) }, (response) => {
      response.resume();
      response.on('end', () => resolve({ status: response.statusCode ?? 0 }));
    });
    request.on('error', (error) => resolve(outcomeOf(error)));
    request.end(body);
  });
}

describe('the stub stays in front', () => {
  let sentinel: ByteSentinel;
  let origin: string;
  const counts = (): [number, number] => [sentinel.connections(), sentinel.bytes()];
  /** A replaying stub with an empty recording, installed; reopened after the case. */
  const stubs: HttpStub[] = [];
  function replay(options: { allowHosts?: string[]; store?: ExchangeStore } = {}): { stub: HttpStub; sink: ReturnType<typeof memorySink> } {
    const sink = memorySink({ limit: 1_000 });
    const stub = createHttpStub({ mode: 'replay', store: options.store ?? harStore({ file: empty }), journal: createJournal({ profile: 'mirror', sinks: [sink] }), ...(options.allowHosts && { allowHosts: options.allowHosts }) });
    stub.install();
    stubs.push(stub);
    return { stub, sink };
  }
  async function reopen(): Promise<void> {
    for (const stub of stubs.splice(0)) {
      await stub.dispose();
      stub.reopenNetwork();
    }
  }

  beforeAll(async () => {
    sentinel = await startByteSentinel('http');
    origin = `http://127.0.0.1:${sentinel.port}`;
  });
  // Whatever a case left behind (it failed half-way), the next starts with the network open.
  afterEach(reopen);
  afterAll(async () => {
    await sentinel.close();
  });

  // First: replay holds the symbols read-only for the rest of the process, record never does.
  it('record: the symbols stay writable — an app\'s setGlobalDispatcher takes effect, its calls go out unrecorded, journaled as warned', async () => {
    const sink = memorySink();
    const recorder = createHttpStub({ mode: 'record', store: harStore({ file: join(folder, 'replaced.har') }), journal: createJournal({ profile: 'record', sinks: [sink] }) });
    recorder.install();
    const appDispatcher = new undici.Agent();
    undici.setGlobalDispatcher(appDispatcher);
    expect(undici.getGlobalDispatcher()).toBe(appDispatcher);
    expect((await undici.request(`${origin}/pay`)).statusCode).toBe(200);
    await recorder.dispose();
    expect(sink.events().map((event) => [event.action, event.operation])).toEqual([['warned', 'setGlobalDispatcher']]);
    // What the app set is left as it is.
    expect(undici.getGlobalDispatcher()).toBe(appDispatcher);
    await appDispatcher.close();
  });

  it('record and replay a copy of http.request taken before install(): found by the ClientRequest that owns the connection', async () => {
    const file = join(folder, 'copied.har');
    const call = (): Promise<Outcome> =>
      withRequestContext({ requestId: 'c-1' }, () => new Promise<Outcome>((resolve) => {
        const request = copiedRequest(`${origin}/copied`, { method: 'POST' }, (response) => {
          response.resume();
          response.on('end', () => resolve({ status: response.statusCode ?? 0 }));
        });
        request.on('error', (error) => resolve(outcomeOf(error)));
        request.end('amount=5');
      }));
    const recorder = createHttpStub({ mode: 'record', store: harStore({ file }) });
    recorder.install();
    expect(await call()).toEqual({ status: 200 });
    await recorder.dispose();
    expect(JSON.parse(readFileSync(file, 'utf8')).log.entries.map((entry: { request: { method: string; url: string } }) => `${entry.request.method} ${entry.request.url}`)).toEqual([`POST ${origin}/copied`]);
    const stub = createHttpStub({ mode: 'replay', store: harStore({ file }) });
    stub.install();
    stubs.push(stub);
    const before = counts();
    expect(await call()).toEqual({ status: 200 });
    expect(await call()).toMatchObject({ code: 'MG_ERR_HTTP_NO_RECORDING' });
    expect(counts()).toEqual(before);
  });

  it('a socket kept alive while recording carries no call of the replay that follows', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const recorder = createHttpStub({ mode: 'record', store: harStore({ file: join(folder, 'pooled.har') }) });
    recorder.install();
    expect(await withRequestContext({ requestId: 'r-1' }, () => nodeRequest(origin, 'GET', { agent }))).toEqual({ status: 200 });
    await recorder.dispose();
    expect(Object.values(agent.freeSockets).flat()).toHaveLength(1);
    replay();
    const before = counts();
    // A method the parser does not know, on the pooled socket if it were still there.
    expect(await nodeRequest(origin, 'FOO', { agent })).toMatchObject({ code: 'MG_ERR_HTTP_UNREADABLE' });
    expect(await nodeRequest(origin, 'POST', { agent, body: 'amount=5' })).toMatchObject({ code: 'MG_ERR_HTTP_NO_RECORDING' });
    expect(counts()).toEqual(before);
    await reopen();
    agent.destroy();
  });

  it('a socket a safe call to an allowed host went out on carries nothing else: the next POST, an unreadable call on it are refused', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const { sink } = replay({ allowHosts: [`127.0.0.1:${sentinel.port}`] });
    const before = counts();
    expect(await nodeRequest(origin, 'GET', { agent })).toEqual({ status: 200 });
    const afterGet = counts();
    expect(afterGet[0]).toBe(before[0] + 1);
    expect(await nodeRequest(origin, 'POST', { agent, body: 'amount=5' })).toMatchObject({ code: 'MG_ERR_HTTP_UNSAFE' });
    expect(await nodeRequest(origin, 'FOO', { agent })).toMatchObject({ code: 'MG_ERR_HTTP_UNREADABLE' });
    expect(await nodeRequest(origin, 'GET', { agent, headers: { 'content-length': '3', 'transfer-encoding': 'chunked' }, body: 'abc' })).toMatchObject({ code: 'MG_ERR_HTTP_UNREADABLE' });
    // The same GET again is let out again (on whatever socket the agent has): only what the engine allowed.
    expect(await nodeRequest(origin, 'GET', { agent })).toEqual({ status: 200 });
    await sentinel.bytesAbove(afterGet[1]);
    expect(sink.events().map((event) => event.action)).toEqual(['passed', 'blocked', 'blocked', 'blocked', 'passed']);
    await reopen();
    agent.destroy();
  });

  it('a request the parser rejects after its headers is refused, on a new connection too (its own passthrough, before the connection\'s guard hears of it)', async () => {
    const { sink } = replay();
    const before = counts();
    // A body longer than its Content-Length (the rest reads as another request), a Transfer-Encoding that is not chunked.
    const overlong = await nodeRequest(origin, 'POST', { agent: false, headers: { 'content-length': '3' }, body: 'amount=5' });
    const identity = await nodeRequest(origin, 'POST', { agent: false, headers: { 'transfer-encoding': 'identity' }, body: 'amount=5' });
    expect([overlong.code, identity.code]).toEqual(['MG_ERR_HTTP_UNREADABLE', 'MG_ERR_HTTP_UNREADABLE']);
    expect(counts()).toEqual(before);
    expect(sink.events().filter((event) => event.action === 'blocked').map((event) => event.reason)).toEqual([expect.stringContaining('the rest of a POST request'), expect.stringContaining('the rest of a POST request')]);
    await reopen();
  });

  it('never lets out a safe method that is not one exactly, one with a body, or an upgrade, whatever the host', async () => {
    const { sink } = replay({ allowHosts: [`127.0.0.1:${sentinel.port}`] });
    const before = counts();
    // undici sends a method as given: "get" is not GET.
    expect(outcomeOf(await undici.request(`${origin}/pay`, { method: 'get' as 'GET' }).catch((error: unknown) => error))).toMatchObject({ code: 'MG_ERR_HTTP_UNSAFE' });
    // A GET's body never reaches a parsed request: its headers say it has one.
    expect(await nodeRequest(origin, 'GET', { headers: { 'content-length': '8' }, body: 'amount=5' })).toMatchObject({ code: 'MG_ERR_HTTP_UNSAFE' });
    expect(await nodeRequest(origin, 'GET', { headers: { 'transfer-encoding': 'chunked' }, body: 'amount=5' })).toMatchObject({ code: 'MG_ERR_HTTP_UNSAFE' });
    // WebSockets, over node:http (ws) and over the process's dispatcher (undici's): an upgrade is a channel the stub cannot see.
    const ws = await new Promise<Outcome>((resolve) => {
      const socket = new WebSocketClient(`ws://127.0.0.1:${sentinel.port}/feed`);
      socket.on('open', () => resolve({ status: 101 }));
      socket.on('error', (error) => resolve(outcomeOf(error)));
    });
    expect(ws).toMatchObject({ code: 'MG_ERR_HTTP_UNSAFE' });
    const opened = await new Promise<boolean>((resolve) => {
      const socket = new undici.WebSocket(`ws://127.0.0.1:${sentinel.port}/feed`);
      socket.addEventListener('open', () => resolve(true));
      socket.addEventListener('error', () => resolve(false));
    });
    expect(opened).toBe(false);
    expect(counts()).toEqual(before);
    expect(sink.events().filter((event) => event.action === 'blocked').map((event) => event.reason)).toEqual([
      expect.stringContaining('a get never goes out'),
      expect.stringContaining('a body'),
      expect.stringContaining('a body'),
      expect.stringContaining('upgrade'),
      expect.stringContaining('upgrade'),
    ]);
    await reopen();
  });

  it('keeps the process-wide dispatcher whatever writes it: undici 8 ignores setGlobalDispatcher, 6 and 7 throw, and a replayed call never reaches the app\'s', async () => {
    replay();
    const appDispatcher = new undici.MockAgent();
    appDispatcher.disableNetConnect();
    appDispatcher.get(origin).intercept({ path: '/pay' }).reply(200, 'from the app\'s mock').persist();
    undici.setGlobalDispatcher(appDispatcher);
    expect(() => undici7.setGlobalDispatcher(new undici7.Agent())).toThrow(TypeError);
    expect(() => undici6.setGlobalDispatcher(new undici6.Agent())).toThrow(TypeError);
    expect(() => Object.defineProperty(globalThis, Symbol.for('undici.globalDispatcher.1'), { value: appDispatcher })).toThrow(TypeError);
    const before = counts();
    for (const call of [() => fetch(`${origin}/pay`), () => undici.fetch(`${origin}/pay`), () => undici7.fetch(`${origin}/pay`), () => undici6.fetch(`${origin}/pay`)]) {
      expect(outcomeOf(await call().then(() => new Error('answered'), (error: unknown) => error))).toMatchObject({ code: 'MG_ERR_HTTP_NO_RECORDING' });
    }
    expect(counts()).toEqual(before);
    await reopen();
    await appDispatcher.close();
  });

  it('shutdown: calls under way are answered from the recording; every call after dispose() began is refused, journaled, nothing sent', async () => {
    const exchange = (requestId: string): RecordedExchange => ({
      requestId,
      incoming: null,
      request: { method: 'POST', url: `${origin}/pay`, headers: [], body: Buffer.from('amount=5') },
      response: { status: 201, statusText: 'Created', headers: [['content-type', 'text/plain']], body: Buffer.from('paid') },
      startedAt: new Date(0).toISOString(),
      durationMs: 1,
    });
    // The store answers when the test says so: the calls are under way until then.
    let release!: () => void;
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    let bothAsked!: () => void;
    const asked = new Promise<void>((resolve) => {
      bothAsked = resolve;
    });
    let questions = 0;
    const store: ExchangeStore = {
      description: 'a slow store',
      exchangesFor: async (requestId) => {
        if (++questions === 2) bothAsked();
        await released;
        return [exchange(requestId ?? '')];
      },
      record: async () => undefined,
      close: async () => undefined,
    };
    const { stub, sink } = replay({ store });
    const before = counts();
    const underWay = [
      withRequestContext({ requestId: 'r-1' }, () => fetch(`${origin}/pay`, { method: 'POST', body: 'amount=5' }).then(async (response) => response.text())),
      withRequestContext({ requestId: 'r-2' }, () => nodeRequest(origin, 'POST', { body: 'amount=5' })),
    ];
    await asked;
    const disposed = stub.dispose();
    const during = await withRequestContext({ requestId: 'r-1' }, () =>
      Promise.all([
        fetch(`${origin}/pay`).then((): Outcome => ({ status: 200 }), outcomeOf),
        nodeRequest(origin, 'POST', { body: 'amount=5' }),
        undici.request(`${origin}/pay`).then((): Outcome => ({ status: 200 }), outcomeOf),
      ]),
    );
    release();
    expect(await underWay[0]).toBe('paid');
    expect(await underWay[1]).toEqual({ status: 201 });
    await disposed;
    expect(during.map((outcome) => outcome.code)).toEqual(['MG_ERR_HTTP_STUB_CLOSED', 'MG_ERR_HTTP_STUB_CLOSED', 'MG_ERR_HTTP_STUB_CLOSED']);
    // After dispose() too, until the network is reopened on purpose.
    expect(outcomeOf(await fetch(`${origin}/pay`).catch((error: unknown) => error))).toMatchObject({ code: 'MG_ERR_HTTP_STUB_CLOSED' });
    expect(counts()).toEqual(before);
    expect(sink.events().filter((event) => event.action === 'replayed')).toHaveLength(2);
    expect(sink.events().filter((event) => event.action === 'blocked' && event.reason.includes('dispose()'))).toHaveLength(4);
    await reopen();
  });

  it('a CONNECT is refused; bytes written on a node:http socket after its answer never go out either', async () => {
    const sink = memorySink();
    // Any miss is answered (200): the GET below is, and its socket stays open for more.
    const stub = createHttpStub({ mode: 'replay', store: harStore({ file: empty }), onMiss: { status: 200, headers: { 'content-length': '2' }, body: 'ok' }, journal: createJournal({ profile: 'mirror', sinks: [sink] }) });
    stub.install();
    stubs.push(stub);
    const before = counts();
    const connect = await new Promise<Outcome>((resolve) => {
      const request = http.request({ host: '127.0.0.1', port: sentinel.port, method: 'CONNECT', path: `127.0.0.1:${sentinel.port}` });
      request.on('connect', () => resolve({ status: 200 }));
      request.on('error', (error) => resolve(outcomeOf(error)));
      request.end();
    });
    expect(connect).toMatchObject({ code: 'MG_ERR_HTTP_UNREADABLE' });
    const agent = new http.Agent({ keepAlive: true });
    const socket = await new Promise<import('node:net').Socket>((resolve, reject) => {
      const request = http.request(`${origin}/answered`, { agent }, (response) => {
        response.resume();
        response.on('end', () => resolve(request.socket!));
      });
      request.on('error', reject);
      request.end();
    });
    const refused = new Promise<unknown>((resolve) => socket.on('error', resolve));
    // The socket is back in the agent's pool, no request on it: what is written now is no HTTP.
    socket.write('not http at all\r\n');
    expect(outcomeOf(await Promise.race([refused, sentinel.bytesAbove(before[1]).then(() => new Error('reached the sentinel'))]))).toMatchObject({ code: 'MG_ERR_HTTP_UNREADABLE' });
    expect(counts()).toEqual(before);
    expect(sink.events().map((event) => event.action)).toEqual(['blocked', 'simulated', 'blocked']);
    agent.destroy();
    await reopen();
  });

  it('reopenNetwork() is for a closed stub only; another stub takes over a closed one', async () => {
    const { stub } = replay();
    expect(() => stub.reopenNetwork()).toThrow(MirrorGuardError);
    await stub.dispose();
    const next = createHttpStub({ mode: 'replay', store: harStore({ file: empty }), allowHosts: [`127.0.0.1:${sentinel.port}`] });
    next.install();
    stubs.push(next);
    // The closed stub's refusal gave way to the new stub's allow-list.
    expect(await nodeRequest(origin, 'GET')).toEqual({ status: 200 });
    // The closed stub was taken out by the new one: its reopenNetwork() has nothing left to do.
    stub.reopenNetwork();
    expect(outcomeOf(await fetch(`${origin}/pay`, { method: 'POST' }).catch((error: unknown) => error))).toMatchObject({ code: 'MG_ERR_HTTP_UNSAFE' });
    await reopen();
  });
});
