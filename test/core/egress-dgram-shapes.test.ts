import dgram from 'node:dgram';
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { EgressRefusedError } from '../../packages/core/src/egress/egress-refused-error.ts';
import type { EgressPolicy } from '../../packages/core/src/egress/egress-policy.ts';
import { guardDgram } from '../../packages/core/src/egress/guard-dgram.ts';
import { rng } from '../support/seeded-random.ts';

// The socket layer of UDP alone (as under --permission, where there is no handle layer below it),
// against node's own reading of `send`'s arguments. Generated argument shapes, each sent once with
// nothing patched (node decides: it throws, or a datagram arrives) and once through the guard with
// nothing declared: what node sends must be refused, what node throws for must still throw.
// The oracle is a receiver of this file that tells each shape's datagram by its source port.

/** A policy that declares nothing: every destination is refused. */
function refuseAll(): EgressPolicy & { refused: number } {
  const policy = {
    refused: 0,
    address: () => undefined,
    name: () => undefined,
    path: () => undefined,
    approve: () => undefined,
    approved: () => false,
    withdraw: () => undefined,
    note: () => undefined,
    noted: () => undefined,
    handleLayer: false,
    remember: () => undefined,
    recall: () => undefined,
    refuse: (attempt: ConstructorParameters<typeof EgressRefusedError>[0]) => {
      policy.refused += 1;
      return new EgressRefusedError(attempt);
    },
    passed: () => undefined,
    childProcesses: false,
    workers: 'lockdown' as const,
    preloadPath: undefined,
  };
  return policy;
}

const random = rng;

const CALLBACK = Symbol('callback');
type Slot = unknown;

/** The argument shapes: the short and the long form, with ports, addresses, offsets and lengths of every type node reads. */
function shapes(port: number, count: number): Slot[][] {
  const message = 'datagram of a shape';
  const ports: Slot[] = [port, String(port), ` ${port} `, `${port}.0`, `0x${port.toString(16)}`, 0, '0', '', 'abc', -1, 70_000, null, undefined, true];
  const addresses: Slot[] = ['127.0.0.1', 'localhost', '', undefined, null, CALLBACK, 0];
  const offsets: Slot[] = [0, '0', undefined, null, 2];
  const lengths: Slot[] = [message.length, String(message.length), '13', undefined, null, 3, CALLBACK];
  const tails: Slot[][] = [[], [CALLBACK]];
  const next = random(0x13b);
  const pick = <T,>(list: readonly T[]): T => list[Math.floor(next() * list.length)]!;
  const out: Slot[][] = [
    // The shapes of the attack: a string length, with an address and by name.
    [message, 0, '13', port, '127.0.0.1', CALLBACK],
    [message, 0, '13', port, '127.0.0.1'],
    [message, 0, '22', port, 'localhost', CALLBACK],
    [message, port, '127.0.0.1'],
    [message, port, CALLBACK],
  ];
  while (out.length < count) {
    const long = next() < 0.7;
    const body = long ? [message, pick(offsets), pick(lengths), pick(ports), pick(addresses)] : [message, pick(ports), pick(addresses)];
    // Trailing undefined arguments are dropped now and then: `send(msg, port)` is not `send(msg, port, undefined)` to every reader.
    while (body.length > 1 && body.at(-1) === undefined && next() < 0.5) body.pop();
    out.push([...body, ...pick(tails)]);
  }
  return out;
}

type Outcome = { readonly kind: 'threw'; readonly code: string } | { readonly kind: 'failed'; readonly code: string } | { readonly kind: 'sent'; readonly port: number };

/**
 * Sends one shape from a socket of its own; settles on the first of: a throw, the callback, an
 * 'error' event, or node handing the datagram to the socket's handle (`UDP.prototype.send`, seen on
 * this one handle: a send node makes without a callback reports nothing else when the system refuses it).
 */
async function sendShape(shape: readonly Slot[]): Promise<Outcome> {
  const socket = dgram.createSocket('udp4');
  socket.bind(0, '127.0.0.1');
  await once(socket, 'listening');
  const stateSymbol = Object.getOwnPropertySymbols(socket).find((symbol) => symbol.description === 'state symbol')!;
  const handle = (socket as unknown as Record<symbol, { handle: Record<'send' | 'send6', (...args: unknown[]) => unknown> }>)[stateSymbol]!.handle;
  try {
    return await new Promise<Outcome>((resolve) => {
      for (const name of ['send', 'send6'] as const) {
        const original = handle[name];
        handle[name] = function (this: unknown, ...args: unknown[]) {
          resolve({ kind: 'sent', port: Number(args[3]) });
          return original.apply(this, args);
        };
      }
      const args = shape.map((slot) => (slot === CALLBACK ? (error: Error | null) => error && resolve({ kind: 'failed', code: String((error as { code?: unknown }).code) }) : slot));
      socket.on('error', (error: Error & { code?: string }) => resolve({ kind: 'failed', code: String(error.code) }));
      try {
        (socket.send as (...rest: unknown[]) => void)(...args);
      } catch (error) {
        resolve({ kind: 'threw', code: String((error as { code?: unknown }).code) });
      }
    });
  } finally {
    socket.close();
  }
}

describe('egress: dgram send, argument shapes, socket layer alone', () => {
  it('whatever node would send is refused; whatever node throws for still throws', async () => {
    const receiver = dgram.createSocket('udp4');
    receiver.bind(0, '127.0.0.1');
    await once(receiver, 'listening');
    const seen = new Map<number, number>();
    const waiting = new Map<number, () => void>();
    receiver.on('message', (_message, rinfo) => {
      seen.set(rinfo.port, (seen.get(rinfo.port) ?? 0) + 1);
      waiting.get(rinfo.port)?.();
    });
    const arrived = (port: number): Promise<void> => (seen.has(port) ? Promise.resolve() : new Promise((resolve) => waiting.set(port, resolve)));
    const receiverPort = receiver.address().port;
    // A datagram of the test's own, sent unpatched: once it arrived, those sent before it did (loopback keeps them in order).
    const fence = async (): Promise<number> => {
      const socket = dgram.createSocket('udp4');
      socket.bind(0, '127.0.0.1');
      await once(socket, 'listening');
      const port = socket.address().port;
      socket.send('fence', receiverPort, '127.0.0.1');
      await arrived(port);
      socket.close();
      return port;
    };
    try {
      const all = shapes(receiverPort, 200);
      const control: Outcome[] = [];
      const sentTo = new Set<number>();
      for (const shape of all) {
        const outcome = await sendShape(shape);
        control.push(outcome);
        if (outcome.kind === 'sent' && outcome.port === receiverPort) sentTo.add(1);
      }
      // Control: the shapes reach both of node's readings, and some of them send to the receiver.
      const sends = control.filter((outcome) => outcome.kind === 'sent').length;
      expect(sentTo.size).toBe(1);
      expect(sends).toBeGreaterThan(20);
      expect(control.filter((outcome) => outcome.kind === 'threw').length).toBeGreaterThan(20);
      await fence();
      seen.clear();
      waiting.clear();

      const policy = refuseAll();
      const undo = guardDgram(policy);
      const guarded: Outcome[] = [];
      try {
        for (const shape of all) guarded.push(await sendShape(shape));
      } finally {
        undo();
      }
      const mismatches = all
        .map((shape, index) => ({ index, shape: shape.map((slot) => (slot === CALLBACK ? 'callback' : slot)), control: control[index]!, guarded: guarded[index]! }))
        .filter(({ control: before, guarded: after }) => {
          if (before.kind === 'sent') return !(after.kind === 'failed' && after.code === 'MG_ERR_EGRESS_REFUSED');
          // What node refused by itself (a throw, or a failed lookup) it still refuses, with the same error —
          // but for an offset or length past the message's end, which node finds only after reading the
          // destination, and the guard refuses first (refused either way: nothing is sent).
          if (before.kind === 'threw' && before.code === 'ERR_BUFFER_OUT_OF_BOUNDS' && after.kind === 'failed' && after.code === 'MG_ERR_EGRESS_REFUSED') return false;
          return JSON.stringify(before) !== JSON.stringify(after);
        });
      expect(mismatches).toEqual([]);
      // Each refusal went through the policy (and so was journaled), once.
      expect(policy.refused).toBe(guarded.filter((outcome) => outcome.kind === 'failed' && outcome.code === 'MG_ERR_EGRESS_REFUSED').length);
      expect(policy.refused).toBeGreaterThanOrEqual(sends);
      // The oracle: nothing arrived from the guarded sends, only the fence after them.
      const last = await fence();
      expect([...seen.keys()]).toEqual([last]);
    } finally {
      receiver.close();
    }
  });
});
