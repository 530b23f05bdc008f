import dgram from 'node:dgram';
import { mkdtempSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { createGuards, createJournal, memorySink, withRequestContext } from '@mirrorguard/core';
import axios from 'axios';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpStub, harStore, httpStubProvider } from '../../packages/http-stub/src/index.ts';
import { startByteSentinel, type ByteSentinel } from '../support/byte-sentinel.ts';
import { selfSignedCert } from '../support/self-signed-cert.ts';

// What each layer holds when the one above it is gone or was never in the way, and the exactness of
// the destinations: a name grant is not an address grant, an address grant is not a name's.

type Lookup = (hostname: string, options: object, callback: (...args: unknown[]) => void) => void;

const failure = (socket: net.Socket): Promise<Error & { code?: string }> =>
  new Promise((resolve, reject) => {
    socket.once('error', resolve);
    socket.once('connect', () => {
      socket.destroy();
      reject(new Error('connected'));
    });
  });

const connected = (socket: net.Socket): Promise<void> =>
  new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.once('connect', () => {
      socket.end('x');
      resolve();
    });
  });

describe('egress lockdown: the layers, and exact destinations', () => {
  const sink = memorySink({ limit: 10_000 });
  const recording = join(mkdtempSync(join(tmpdir(), 'mirrorguard-egress-layers-')), 'calls.har');
  let tlsSentinel: ByteSentinel;
  let tcp: ByteSentinel;
  let udp: ByteSentinel;
  let unix: ByteSentinel;
  let byName: ByteSentinel;
  let byAddress: ByteSentinel;
  let recorded: ByteSentinel;
  let early: net.Socket;
  let capturedConnect: (this: net.Socket, ...args: unknown[]) => net.Socket;
  let capturedSend: (this: dgram.Socket, ...args: unknown[]) => void;
  let capturedDgramConnect: (this: dgram.Socket, ...args: unknown[]) => void;

  beforeAll(async () => {
    const cert = selfSignedCert();
    [tlsSentinel, tcp, udp, unix, byName, byAddress, recorded] = await Promise.all([
      startByteSentinel('tls', cert),
      startByteSentinel('tcp'),
      startByteSentinel('udp'),
      startByteSentinel('unix'),
      startByteSentinel('tcp'),
      startByteSentinel('tcp'),
      startByteSentinel('http'),
    ]);
    // Opened before the lockdown, nothing sent yet: TLS started over it later must not go out.
    early = net.connect(tlsSentinel.port, '127.0.0.1');
    await new Promise((resolve) => early.once('connect', resolve));
    capturedConnect = net.Socket.prototype.connect as never;
    capturedSend = dgram.Socket.prototype.send as never;
    capturedDgramConnect = dgram.Socket.prototype.connect as never;
    // The primary records a call, with nothing locked.
    const primary = createHttpStub({ mode: 'record', store: harStore({ file: recording }), journal: createJournal({ profile: 'record' }) });
    primary.install();
    await withRequestContext({ requestId: 'order-1' }, () => axios.post(`http://127.0.0.1:${recorded.port}/orders`, 'hello', { proxy: false }));
    await primary.dispose();

    await createGuards({ profile: 'mirror', providers: {}, journal: { sinks: [sink] }, egress: { allow: [`localhost:${byName.port}`, `127.0.0.1:${byAddress.port}`] } });
  });

  afterAll(async () => {
    early.destroy();
    for (const sentinel of [tlsSentinel, tcp, udp, unix, byName, byAddress, recorded]) await sentinel.close();
  });

  it('tls.connect over a socket opened before the lockdown: refused before the handshake writes a byte', () => {
    expect(tlsSentinel.connections()).toBe(1);
    expect(() => tls.connect({ socket: early, rejectUnauthorized: false })).toThrow(expect.objectContaining({ code: 'MG_ERR_EGRESS_REFUSED', layer: 'tls.connect' }));
    expect(tlsSentinel.bytes()).toBe(0);
  });

  it('Socket.prototype.connect captured before the lockdown: the TCP handle refuses, with the lockdown error', async () => {
    const socket = new net.Socket();
    capturedConnect.call(socket, tcp.port, '127.0.0.1');
    expect(await failure(socket)).toMatchObject({ code: 'MG_ERR_EGRESS_REFUSED', layer: 'tcp_wrap TCP.prototype.connect' });
    expect(tcp.connections()).toBe(0);
  });

  it('a wrapper installed after the lockdown over a stale original (an agent re-patching): the handle still refuses', async () => {
    const current = net.Socket.prototype.connect;
    net.Socket.prototype.connect = function (this: net.Socket, ...args: unknown[]) {
      return capturedConnect.apply(this, args);
    } as typeof current;
    try {
      expect(await failure(net.connect(tcp.port, 'localhost'))).toMatchObject({ code: 'MG_ERR_EGRESS_REFUSED' });
    } finally {
      net.Socket.prototype.connect = current;
    }
    expect(tcp.connections()).toBe(0);
  });

  it('a Unix socket through a captured connect: the Pipe handle refuses', async () => {
    const socket = new net.Socket();
    capturedConnect.call(socket, unix.path!);
    expect(await failure(socket)).toMatchObject({ code: 'MG_ERR_EGRESS_REFUSED', layer: 'pipe_wrap Pipe.prototype.connect' });
    expect(unix.connections()).toBe(0);
  });

  it('dgram send captured before the lockdown: the UDP handle refuses, nothing is sent', async () => {
    // Bound first: an unbound socket queues the send and calls the (patched) send again once bound.
    const socket = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    const error = await new Promise<unknown>((resolve) => capturedSend.call(socket, 'hello', udp.port, '127.0.0.1', resolve));
    socket.close();
    expect(error).toMatchObject({ code: 'EACCES', syscall: 'send' });
    expect(sink.events().at(-1)).toMatchObject({ action: 'blocked', operation: `send udp 127.0.0.1:${udp.port}`, reason: expect.stringContaining('udp_wrap UDP.prototype.send') });
    await new Promise(setImmediate);
    expect(udp.bytes()).toBe(0);
  });

  it('dgram connect captured before the lockdown: the UDP handle refuses to connect', async () => {
    const socket = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    const error = await new Promise<unknown>((resolve) => capturedDgramConnect.call(socket, udp.port, '127.0.0.1', resolve));
    socket.close();
    expect(error).toMatchObject({ code: 'EACCES', syscall: 'connect' });
    expect(sink.events().at(-1)).toMatchObject({ action: 'blocked', operation: `connect udp 127.0.0.1:${udp.port}`, reason: expect.stringContaining('udp_wrap UDP.prototype.connect') });
  });

  it('dgram to a hostname granted by no name: resolved and checked at the socket layer, refused with the lockdown error', async () => {
    const socket = dgram.createSocket('udp4');
    const error = await new Promise<unknown>((resolve) => socket.send('hello', udp.port, 'localhost', resolve));
    socket.close();
    expect(error).toMatchObject({ code: 'MG_ERR_EGRESS_REFUSED', destination: `127.0.0.1:${udp.port}`, allowAs: `localhost:${udp.port}` });
    await new Promise(setImmediate);
    expect(udp.bytes()).toBe(0);
  });

  it('dgram connectSync: refused at the socket layer', () => {
    const socket = dgram.createSocket('udp4');
    socket.bind(0, '127.0.0.1');
    try {
      expect(() => (socket as unknown as { connectSync(port: number, address: string): void }).connectSync(udp.port, '127.0.0.1')).toThrow(
        expect.objectContaining({ code: 'MG_ERR_EGRESS_REFUSED', layer: 'dgram.Socket.prototype.connectSync' }),
      );
    } finally {
      socket.close();
    }
  });

  it('a name resolving to granted and other addresses: only the granted one is tried, nothing is journaled', async () => {
    const both: Lookup = (_hostname, options, callback) =>
      (options as { all?: boolean }).all ? callback(null, [{ address: '::1', family: 6 }, { address: '127.0.0.1', family: 4 }]) : callback(null, '::1', 6);
    const seen = sink.events().length;
    const socket = net.connect({ port: byAddress.port, host: 'service.example', lookup: both as never, autoSelectFamily: true });
    await connected(socket);
    expect(socket.remoteAddress).toBe('127.0.0.1');
    expect(sink.events().slice(seen)).toEqual([]);
  });

  it('a name grant lets the name through, whatever it resolves to, and never the bare address', async () => {
    await connected(net.connect(byName.port, 'localhost'));
    await connected(net.connect(byName.port, 'LOCALHOST'));
    const before = byName.connections();
    expect(await failure(net.connect(byName.port, '127.0.0.1'))).toMatchObject({ code: 'MG_ERR_EGRESS_REFUSED' });
    expect(await failure(net.connect(byName.port, '::1'))).toMatchObject({ code: 'MG_ERR_EGRESS_REFUSED' });
    await new Promise(setImmediate);
    expect(byName.connections()).toBe(before);
  });

  it('an address grant lets through any name that resolves to it, and nothing it does not', async () => {
    const to = (address: string): Lookup => (_hostname, options, callback) =>
      (options as { all?: boolean }).all ? callback(null, [{ address, family: net.isIP(address) }]) : callback(null, address, net.isIP(address));
    await connected(net.connect({ port: byAddress.port, host: 'localhost' }));
    await connected(net.connect({ port: byAddress.port, host: 'service.example', lookup: to('127.0.0.1') as never }));
    const before = byAddress.connections();
    // The same sentinel listens on ::1 too, but [::1] was not declared.
    expect(await failure(net.connect({ port: byAddress.port, host: 'localhost', lookup: to('::1') as never }))).toMatchObject({ code: 'MG_ERR_EGRESS_REFUSED' });
    expect(await failure(net.connect({ port: byAddress.port, host: '0.0.0.0' }))).toMatchObject({ code: 'MG_ERR_EGRESS_REFUSED' });
    await new Promise(setImmediate);
    expect(byAddress.connections()).toBe(before);
  });

  // Last: while http-stub is installed, @mswjs/interceptors emulates every socket's connect until it sees the request.
  it("a mocked connection (http-stub's replay swaps the socket's handle) is neither made nor refused", async () => {
    const guards = await createGuards({ profile: 'mirror', providers: { http: httpStubProvider({ recording }) }, journal: { sinks: [sink] } });
    const before = recorded.connections();
    const seen = sink.events().length;
    try {
      const response = await withRequestContext({ requestId: 'order-1' }, () => axios.post(`http://127.0.0.1:${recorded.port}/orders`, 'hello', { proxy: false }));
      expect(response.data).toBe('ok');
    } finally {
      await guards.close();
    }
    expect(recorded.connections()).toBe(before);
    expect(sink.events().slice(seen).map((event) => `${event.dependency} ${event.action}`)).toEqual(['http replayed']);
  });
});
