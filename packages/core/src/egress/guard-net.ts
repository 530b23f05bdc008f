import dns, { type LookupAddress } from 'node:dns';
import type * as Net from 'node:net';
import type * as Tls from 'node:tls';
import { bindRequestContext } from '../context/request-context.ts';
import { canonicalHost, describeDestination } from './destination.ts';
import type { EgressPolicy } from './egress-policy.ts';
import type { EgressRefusedError, RefusedAttempt } from './egress-refused-error.ts';

// Loaded through process.getBuiltinModule, not imported: the preload's first module records which
// networking modules were loaded before it (preload-snapshot.ts), so none of its own may load first.
const net = process.getBuiltinModule('node:net') as typeof Net;
const tls = process.getBuiltinModule('node:tls') as typeof Tls;

const CONNECT_LAYER = 'net.Socket.prototype.connect';
const TLS_LAYER = 'tls.connect';

type ConnectOptions = Record<string, unknown> & { path?: unknown; host?: unknown; port?: unknown; lookup?: unknown };
type LookupCallback = (error: Error | null, address: string | LookupAddress[], family?: number) => void;
type LookupFunction = (hostname: string, options: object, callback: LookupCallback) => void;

const normalizeArgs = (net as unknown as { _normalizeArgs?: (args: unknown[]) => unknown[] })._normalizeArgs;

/** `[options, callback]` the way `Socket.prototype.connect` reads its arguments. */
function readArguments(args: unknown[]): [ConnectOptions, unknown] {
  // net.connect passes one array already normalized (marked with a private symbol).
  const normalized = Array.isArray(args[0]) ? args[0] : (normalizeArgs?.(args) ?? fallbackNormalize(args));
  const options = normalized[0];
  return [typeof options === 'object' && options !== null ? (options as ConnectOptions) : {}, normalized[1]];
}

function fallbackNormalize(args: unknown[]): unknown[] {
  const last = args.at(-1);
  const callback = typeof last === 'function' ? last : null;
  const [first, second] = args;
  if (typeof first === 'object' && first !== null) return [first, callback];
  if (typeof first === 'string' && Number.isNaN(Number(first))) return [{ path: first }, callback];
  return [{ port: first, ...(typeof second === 'string' && { host: second }) }, callback];
}

/** The port as net will use it (`validatePort`, then `port | 0`), or undefined where net itself throws. */
function readPort(raw: unknown): number | undefined {
  if (raw === undefined) return 0;
  if (typeof raw !== 'number' && typeof raw !== 'string') return undefined;
  if (typeof raw === 'string' && raw.trim() === '') return undefined;
  const port = Number(raw);
  return Number.isInteger(port) && port >= 0 && port <= 0xffff ? port : undefined;
}

/**
 * Fails a connection the way a failed DNS lookup does: the socket is `connecting` (so a write waits
 * instead of failing with another error first), then it is destroyed with the refusal.
 */
function refuseSocket(socket: Net.Socket, error: EgressRefusedError): Net.Socket {
  (socket as { connecting: boolean }).connecting = true;
  process.nextTick(() => socket.destroy(error));
  return socket;
}

const spell = (host: string, port: number): string => describeDestination({ host, port });

/**
 * Every TCP connection and Unix socket a client opens passes here: net.connect, http/https
 * agents, tls.connect (without `socket`), http2, undici of any copy, ws, every client built on
 * them. `import { connect } from 'node:net'` binds a snapshot of the export, but every client still
 * ends here, in the socket's prototype method.
 *
 * - A path is checked as it is (resolved against the working directory).
 * - An IP address is checked directly, in canonical form.
 * - A hostname is checked after lookup, on the addresses it resolves to: the socket is handed a
 *   lookup that calls its own (or dns.lookup) and keeps the granted addresses — all of them when a
 *   hostname grant names exactly this name and port (the socket is then approved, for the handle
 *   layer, for exactly those addresses on that port, until it closes or connects again).
 *
 * Where the handle layer holds (`policy.handleLayer`), this layer refuses nothing itself: it notes
 * what was asked and narrows the lookup to granted addresses when there are any, and the handle
 * layer refuses what is left, at the one point a connection really starts. A socket whose handle an
 * interceptor replaced never gets there, so a mocked connection (http-stub's replay) is not refused.
 * The refusal still reaches the client as the lockdown's error: `destroy` swaps node's
 * `connect EACCES` for it. Without the handle layer, this layer refuses by itself.
 *
 * Returns how to take the patches out again.
 */
export function guardNetConnect(policy: EgressPolicy, checkedSockets: WeakSet<object>): () => void {
  const prototype = net.Socket.prototype as unknown as {
    connect: (this: Net.Socket, ...args: unknown[]) => Net.Socket;
    destroy: (this: Net.Socket, error?: Error) => Net.Socket;
  };
  const original = prototype.connect;
  const enforce = !policy.handleLayer;
  // The connect attempt each socket is in: a lookup that answers for an earlier one approves nothing.
  const attempts = new WeakMap<object, object>();

  function connect(this: Net.Socket, ...args: unknown[]): Net.Socket {
    const [options, callback] = readArguments(args);
    checkedSockets.add(this);
    // A new attempt: nothing approved for an earlier one (by name, to its addresses) carries over.
    policy.withdraw(this);
    const attempt = {};
    attempts.set(this, attempt);
    const refuse = (attempt: Omit<RefusedAttempt, 'layer' | 'kind'>): EgressRefusedError => policy.refuse({ kind: 'connect', layer: CONNECT_LAYER, ...attempt });

    // A path wins over host and port, as in net.
    if (options.path !== undefined && options.path !== null && options.path !== '') {
      const path = String(options.path);
      if (enforce && policy.path(path) === undefined) {
        const target = describeDestination({ path });
        return refuseSocket(this, refuse({ protocol: 'unix', target, allowAs: target }));
      }
      return original.apply(this, args);
    }

    const port = readPort(options.port);
    // net throws for such a port; let it (nothing is connected).
    if (port === undefined) return original.apply(this, args);
    const host = typeof options.host === 'string' && options.host !== '' ? options.host : 'localhost';

    if (net.isIP(host) !== 0) {
      const canonical = canonicalHost(host);
      if (canonical !== host) policy.note(this, spell(host, port));
      if (enforce && policy.address(host, port) === undefined) {
        const target = spell(canonical, port);
        return refuseSocket(this, refuse({ protocol: 'tcp', target, ...(canonical !== host && { asked: spell(host, port) }), allowAs: target }));
      }
      return original.apply(this, args);
    }

    const asked = spell(canonicalHost(host), port);
    policy.note(this, asked);
    const byName = policy.name(host, port) !== undefined;
    const lookup = (typeof options.lookup === 'function' ? options.lookup : dns.lookup) as LookupFunction;
    // The refusal is journaled in the context of the call that connected, not of the lookup's callback.
    const refuseAfterLookup = bindRequestContext((addresses: readonly string[]): EgressRefusedError =>
      refuse({ protocol: 'tcp', target: addresses.map((address) => spell(canonicalHost(address), port)).join(', '), asked, allowAs: asked }),
    );
    const granted = (address: string): boolean => byName || policy.address(address, port) !== undefined;
    const guardedLookup: LookupFunction = (hostname, lookupOptions, done) => {
      lookup(hostname, lookupOptions, (error, address, family) => {
        if (error !== null && error !== undefined) return done(error, address, family);
        const addresses = Array.isArray(address) ? address.map((entry) => entry.address) : [String(address)];
        const kept = Array.isArray(address) ? address.filter((entry) => granted(entry.address)) : granted(String(address)) ? address : [];
        if (Array.isArray(kept) && kept.length === 0) {
          // Nothing granted: refused here, or (with the handle layer) left to it.
          if (enforce) return done(refuseAfterLookup(addresses), Array.isArray(address) ? [] : '', family);
          return done(null, address, family);
        }
        // A hostname grant covers what the name resolved to, for this attempt of this socket and this port:
        // the handle layer lets these addresses through, and only these.
        if (byName && attempts.get(this) === attempt) policy.approve(this, addresses, port);
        return done(null, kept, family);
      });
    };
    // A new object over the caller's options: they may be reused for another connection.
    const guarded = Object.create(options, { lookup: { value: guardedLookup, enumerable: true, writable: true, configurable: true } }) as ConnectOptions;
    return typeof callback === 'function' ? original.call(this, guarded, callback) : original.call(this, guarded);
  }

  // The handle layer refused this socket's connect: fail it with the refusal, not with `connect EACCES`.
  // Only while it is still connecting: a socket that went on to connect to another, granted address
  // fails later for reasons of its own.
  const originalDestroy = prototype.destroy;
  function destroy(this: Net.Socket, error?: Error): Net.Socket {
    const refusal = error === undefined || error === null || !this.connecting ? undefined : policy.recall(this);
    // The attempt is over: what its name approved ends now (and, for a destroy copied before the lockdown, at `close`).
    policy.withdraw(this);
    return originalDestroy.call(this, refusal ?? error);
  }

  prototype.connect = connect;
  prototype.destroy = destroy;
  return () => {
    if (prototype.connect === connect) prototype.connect = original;
    if (prototype.destroy === destroy) prototype.destroy = originalDestroy;
  };
}

/**
 * `tls.connect({ socket })` starts TLS over a socket that is already there: no connect happens, so
 * neither layer saw it if it was opened before the lockdown. Such a socket (a client socket the
 * lockdown never saw, to an address not granted) is refused before the handshake writes a byte.
 * Sockets accepted by a server are inbound and pass.
 */
export function guardTlsConnect(policy: EgressPolicy, checkedSockets: WeakSet<object>): () => void {
  const original = tls.connect;

  function connect(this: unknown, ...args: unknown[]): Tls.TLSSocket {
    const options = args.find((arg): arg is { socket?: unknown } => typeof arg === 'object' && arg !== null);
    const socket = options?.socket;
    if (socket instanceof net.Socket && !checkedSockets.has(socket) && (socket as { server?: unknown }).server == null) {
      const { remoteAddress, remotePort } = socket;
      if (remoteAddress === undefined || remotePort === undefined || policy.address(remoteAddress, remotePort) === undefined) {
        const target = remoteAddress === undefined || remotePort === undefined ? 'a socket opened before the lockdown' : spell(canonicalHost(remoteAddress), remotePort);
        throw policy.refuse({
          kind: 'connect',
          protocol: 'tcp',
          target,
          ...(remoteAddress !== undefined && remotePort !== undefined && { allowAs: target }),
          layer: TLS_LAYER,
          why: 'TLS over a socket opened before the lockdown, to a destination not declared',
        });
      }
    }
    return (original as (...a: unknown[]) => Tls.TLSSocket).apply(this, args);
  }

  tls.connect = connect as typeof tls.connect;
  return () => {
    if (tls.connect === connect) tls.connect = original;
  };
}
