import { createGuards, memorySink, type DestinationInput, type Guards } from '@mirrorguard/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SENTINEL_KINDS, startByteSentinel, type ByteSentinel, type SentinelKind } from '../support/byte-sentinel.ts';
import { CLIENTS, runClient, type Outcome, type Target } from '../support/egress-clients.ts';
import { selfSignedCert } from '../support/self-signed-cert.ts';

// Every client, on every protocol it speaks, against three sentinels of that protocol: a control
// one reached before the lockdown (the oracle sees this client's bytes at all), a locked one never
// declared (it must read 0 bytes and accept 0 connections), and a declared one (still reachable).
// Each call runs twice: with the client made after the lockdown, and with its agent, dispatcher or
// captured function made before it.

const CASES = Object.entries(CLIENTS).flatMap(([client, { kinds }]) => kinds.map((kind) => [client, kind] as const));
const TIMINGS = ['after', 'before'] as const;

const targetOf = (sentinel: ByteSentinel): Target => ({ kind: sentinel.kind, host: '127.0.0.1', port: sentinel.port, ...(sentinel.path !== undefined && { path: sentinel.path }) });
const destinationsOf = (sentinel: ByteSentinel): DestinationInput[] =>
  sentinel.path !== undefined ? [{ path: sentinel.path }] : [`127.0.0.1:${sentinel.port}`, `[::1]:${sentinel.port}`];

describe('egress lockdown: every client, every protocol', () => {
  const control = new Map<SentinelKind, ByteSentinel>();
  const locked = new Map<SentinelKind, ByteSentinel>();
  const declared = new Map<SentinelKind, ByteSentinel>();
  const controlBytes = new Map<string, number>();
  const prepared = new Map<string, unknown>();
  const sink = memorySink({ limit: 10_000 });
  let guards: Guards<Record<string, never>>;

  beforeAll(async () => {
    const cert = selfSignedCert();
    for (const kind of SENTINEL_KINDS) {
      control.set(kind, await startByteSentinel(kind, cert));
      locked.set(kind, await startByteSentinel(kind, cert));
      declared.set(kind, await startByteSentinel(kind, cert));
    }
    // Before any lockdown: every client reaches its control sentinel, which proves the oracle sees it.
    for (const [client, kind] of CASES) {
      const sentinel = control.get(kind)!;
      const before = sentinel.bytes();
      await runClient(client, targetOf(sentinel));
      await new Promise(setImmediate);
      controlBytes.set(`${client}|${kind}`, sentinel.bytes() - before);
    }
    for (const [name, client] of Object.entries(CLIENTS)) if (client.prepare) prepared.set(name, client.prepare());
    guards = await createGuards({ profile: 'mirror', providers: {}, journal: { sinks: [sink] }, egress: { allow: [...declared.values()].flatMap(destinationsOf) } });
  });

  afterAll(async () => {
    for (const sentinel of [...control.values(), ...locked.values(), ...declared.values()]) await sentinel.close();
  });

  it.each(CASES)('control: %s reaches a %s sentinel when nothing is locked', (client, kind) => {
    expect(controlBytes.get(`${client}|${kind}`)).toBeGreaterThan(0);
  });

  describe.each(TIMINGS)('client made %s the lockdown', (timing) => {
    it.each(CASES)('%s to an undeclared %s server: refused, 0 bytes, 0 connections, journaled', async (client, kind) => {
      const sentinel = locked.get(kind)!;
      const seen = sink.events().length;
      const outcome: Outcome = await runClient(client, targetOf(sentinel), timing === 'before' ? prepared.get(client) : undefined);
      expect(outcome, outcome.message).toMatchObject({ ok: false, ...(CLIENTS[client]!.opaqueErrors !== true && { code: 'MG_ERR_EGRESS_REFUSED' }) });
      // A datagram sent on loopback is in the sentinel's buffer when send returns: one turn of the loop reads it.
      await new Promise(setImmediate);
      expect(sentinel.bytes()).toBe(0);
      expect(sentinel.connections()).toBe(0);
      const where = sentinel.path ?? `:${sentinel.port}`;
      expect(sink.events().slice(seen).filter((event) => event.action === 'blocked' && event.operation.includes(where))).not.toHaveLength(0);
    });

    it.each(CASES)('%s to a declared %s server: goes through', async (client, kind) => {
      const sentinel = declared.get(kind)!;
      const before = sentinel.bytes();
      const outcome = await runClient(client, targetOf(sentinel), timing === 'before' ? prepared.get(client) : undefined);
      expect(outcome, outcome.message).toEqual({ ok: true });
      await sentinel.bytesAbove(before);
    });
  });

  it('the error names the destination and how to allow it; the event has no request and says which layer refused', async () => {
    const sentinel = locked.get('tcp')!;
    const net = await import('node:net');
    const error = await new Promise<Error & Record<string, unknown>>((resolve) => net.connect(sentinel.port, 'localhost').once('error', resolve));
    expect(error).toMatchObject({ name: 'EgressRefusedError', code: 'MG_ERR_EGRESS_REFUSED', destination: `127.0.0.1:${sentinel.port}`, allowAs: `localhost:${sentinel.port}` });
    expect(error.message).toContain(`refused to connect tcp to 127.0.0.1:${sentinel.port} (asked for localhost:${sentinel.port})`);
    expect(error.message).toContain(`createGuards({ egress: { allow: ['localhost:${sentinel.port}'] } })`);
    expect(sink.events().at(-1)).toMatchObject({
      dependency: 'network',
      action: 'blocked',
      operation: `connect tcp 127.0.0.1:${sentinel.port} (asked localhost:${sentinel.port})`,
      reason: 'not a declared destination (tcp_wrap TCP.prototype.connect)',
      requestId: null,
      profile: 'mirror',
    });
  });

  it('close() leaves the lockdown in place: a closing mirror keeps refusing', async () => {
    await guards.close();
    const sentinel = locked.get('http')!;
    expect(await runClient('global fetch', targetOf(sentinel))).toMatchObject({ ok: false, code: 'MG_ERR_EGRESS_REFUSED' });
    expect(sentinel.bytes()).toBe(0);
  });
});
