import type * as Dgram from 'node:dgram';
import dns from 'node:dns';
import { bindRequestContext } from '../context/request-context.ts';
import { canonicalHost, describeDestination } from './destination.ts';
import type { EgressPolicy } from './egress-policy.ts';
import type { EgressRefusedError } from './egress-refused-error.ts';

// Loaded through process.getBuiltinModule, not imported: the preload's first module records which
// networking modules were loaded before it (preload-snapshot.ts), so none of its own may load first.
const dgram = process.getBuiltinModule('node:dgram') as typeof Dgram;
const { isIP } = process.getBuiltinModule('node:net');

type Callback = (error: Error | null, ...rest: unknown[]) => void;
type DgramSocket = Dgram.Socket & { type?: string };

interface Target {
  readonly port: number;
  /** undefined: dgram's default, loopback. */
  readonly address: string | undefined;
  readonly callback: Callback | undefined;
  /** The arguments again, with the address replaced. */
  readonly withAddress: (address: string) => unknown[];
}

/** A port as node's validatePort reads it (a number, or a string that is one, padding aside), or undefined where node would throw. */
function readPort(raw: unknown, allowZero = true): number | undefined {
  if (typeof raw !== 'number' && typeof raw !== 'string') return undefined;
  if (typeof raw === 'string' && raw.trim().length === 0) return undefined;
  const port = +raw;
  // validatePort throws for these (and for 0 in any spelling where zero is not allowed, as in send and connect).
  if (port !== port >>> 0 || port > 0xffff || (port === 0 && !allowZero)) return undefined;
  return port;
}

/** Whether dgram takes this socket for connected: then `send` goes to its peer (checked at `connect`), and throws for a port or address. */
// The prototype's, taken when this module loads: a socket's own `remoteAddress` could say anything.
const remoteAddressOf = dgram.Socket.prototype.remoteAddress;

function isConnected(socket: DgramSocket): boolean {
  try {
    remoteAddressOf.call(socket);
    return true;
  } catch {
    return false;
  }
}

/**
 * The destination of `send(msg, [offset, length,] port[, address][, callback])`, read exactly as
 * node's lib/dgram.js reads it — the long form when an address is there or the fourth argument is a
 * port (whatever the type of `length`), the short form otherwise — or undefined for a send node
 * itself sends to no address of the caller's: a connected socket's (its peer was checked when it
 * connected), or one node throws for (a port it does not accept).
 */
function sendTarget(socket: DgramSocket, args: unknown[]): Target | undefined {
  if (isConnected(socket)) return undefined;
  const [, offset, length, fourth, fifth, sixth] = args;
  const long = Boolean(fifth) || (Boolean(fourth) && typeof fourth !== 'function');
  const rawPort = long ? fourth : offset;
  let rawAddress: unknown = long ? fifth : length;
  let callback: unknown = long ? sixth : fourth;
  if (typeof rawAddress === 'function') {
    callback = rawAddress;
    rawAddress = undefined;
  }
  // Port 0 as a number is refused by node (allowZero false); as a string it passes, and is checked here.
  const port = readPort(rawPort, false);
  if (port === undefined) return undefined;
  // node throws for an address that is not a string (validateString): nothing is sent.
  if (rawAddress != null && typeof rawAddress !== 'string') return undefined;
  const fn = typeof callback === 'function' ? (callback as Callback) : undefined;
  return {
    port,
    address: typeof rawAddress === 'string' && rawAddress !== '' ? rawAddress : undefined,
    callback: fn,
    withAddress: (address) => (long ? [args[0], offset, length, rawPort, address, ...(fn === undefined ? [] : [fn])] : [args[0], rawPort, address, ...(fn === undefined ? [] : [fn])]),
  };
}

// dgram keeps a socket's state (its handle, and on it the socket's own lookup) under an internal symbol; found by its description.
let stateSymbol: symbol | undefined;
type Resolve = (name: string, callback: (error: Error | null, address: string) => void) => void;

/** The socket's own lookup (`createSocket({ lookup })`, bound to its family by dgram), or dns.lookup in the socket's family. */
function lookupOf(socket: DgramSocket, family: 4 | 6): Resolve {
  stateSymbol ??= Object.getOwnPropertySymbols(socket).find((symbol) => symbol.description === 'state symbol');
  const state = stateSymbol === undefined ? undefined : (socket as unknown as Record<symbol, { handle?: { lookup?: unknown } | null } | undefined>)[stateSymbol];
  const own = state?.handle?.lookup;
  if (typeof own === 'function') return (name, callback) => (own as Resolve).call(state!.handle, name, callback);
  return (name, callback) => dns.lookup(name, { family }, (error, address) => callback(error, address));
}

function connectTarget(_socket: DgramSocket, args: unknown[]): Target | undefined {
  const port = readPort(args[0], false);
  if (port === undefined) return undefined;
  const addressGiven = typeof args[1] !== 'function';
  const callback = (addressGiven ? args[2] : args[1]) as Callback | undefined;
  return {
    port,
    address: addressGiven && args[1] != null && args[1] !== '' ? String(args[1]) : undefined,
    callback: typeof callback === 'function' ? callback : undefined,
    withAddress: (address) => [port, address, ...(typeof callback === 'function' ? [callback] : [])],
  };
}

/**
 * dgram: `send` to an address and `connect`. The checks are the socket layer's: an address is
 * checked as it is; a hostname granted by name is resolved here by the socket's own lookup, the
 * socket approved for that address and port alone (for the handle layer), and the datagram sent to
 * it; any other hostname is resolved here (dns.lookup, the socket's family) and sent to the checked
 * address, so what is checked is what is used. The handle layer below checks every datagram's address again.
 */
export function guardDgram(policy: EgressPolicy): () => void {
  const prototype = dgram.Socket.prototype as Dgram.Socket & Record<'send' | 'connect' | 'connectSync', (...args: unknown[]) => unknown>;
  const originalSend = prototype.send;
  const originalConnect = prototype.connect;
  const originalConnectSync = prototype.connectSync as ((...args: unknown[]) => unknown) | undefined;

  function fail(socket: DgramSocket, kind: 'send' | 'connect', error: EgressRefusedError, callback: Callback | undefined): void {
    // As dgram reports a failed lookup: to the callback when there is one, else as an 'error' event.
    process.nextTick(() => {
      if (callback !== undefined) {
        if (kind === 'connect') socket.removeListener('connect', callback);
        callback(error);
      } else socket.emit('error', error);
    });
  }

  function guard(kind: 'send' | 'connect', original: (...args: unknown[]) => unknown, read: (socket: DgramSocket, args: unknown[]) => Target | undefined) {
    return function guarded(this: DgramSocket, ...args: unknown[]): unknown {
      const target = read(this, args);
      if (target === undefined) return original.apply(this, args);
      const { port } = target;
      const family = this.type === 'udp6' ? 6 : 4;
      const address = target.address ?? (family === 6 ? '::1' : '127.0.0.1');
      const refuse = bindRequestContext((resolved: string, asked?: string): EgressRefusedError => {
        const spelled = describeDestination({ host: canonicalHost(resolved), port });
        const askedSpelled = asked === undefined ? undefined : describeDestination({ host: canonicalHost(asked), port });
        return policy.refuse({ kind, protocol: 'udp', target: spelled, ...(askedSpelled !== undefined && { asked: askedSpelled }), allowAs: askedSpelled ?? spelled, layer: `dgram.Socket.prototype.${kind}` });
      });
      if (isIP(address) !== 0) {
        // An address this socket's granted name resolved to passes too: dgram re-enters `send` with it
        // (a send queued while the socket binds).
        if (policy.address(address, port) !== undefined || policy.approved(this, canonicalHost(address), port)) return original.apply(this, args);
        fail(this, kind, refuse(address), target.callback);
        return undefined;
      }
      const byName = policy.name(address, port) !== undefined;
      // A name granted by name is resolved by the socket's own lookup; any other by dns.lookup.
      const resolve: Resolve = byName ? lookupOf(this, family) : (name, callback) => dns.lookup(name, { family }, (error, resolved) => callback(error, resolved));
      resolve(address, (error, resolved) => {
        if (error !== null && error !== undefined) {
          fail(this, kind, error as unknown as EgressRefusedError, target.callback);
          return;
        }
        if (byName) {
          // The name's grant covers the address it resolved to, on this port, for this socket (the
          // handle layer below sees only the address): that address and no other, until the socket closes.
          policy.approve(this, [resolved], port);
        } else if (policy.address(resolved, port) === undefined) {
          fail(this, kind, refuse(resolved, address), target.callback);
          return;
        }
        try {
          original.apply(this, target.withAddress(resolved));
        } catch (thrown) {
          // Closed while the name was looked up: reported as dgram reports a failed send, not thrown from a callback.
          fail(this, kind, thrown as EgressRefusedError, target.callback);
        }
      });
      return undefined;
    };
  }

  const send = guard('send', originalSend, sendTarget);
  const connect = guard('connect', originalConnect, connectTarget);
  prototype.send = send as typeof prototype.send;
  prototype.connect = connect as typeof prototype.connect;
  // connectSync (Node 24.x) takes an IP address only.
  const connectSync =
    originalConnectSync &&
    function connectSync(this: DgramSocket, ...args: unknown[]): unknown {
      const port = readPort(args[0]);
      const address = typeof args[1] === 'string' && args[1] !== '' ? args[1] : this.type === 'udp6' ? '::1' : '127.0.0.1';
      if (port !== undefined && isIP(address) !== 0 && policy.address(address, port) === undefined) {
        const target = describeDestination({ host: canonicalHost(address), port });
        throw policy.refuse({ kind: 'connect', protocol: 'udp', target, allowAs: target, layer: 'dgram.Socket.prototype.connectSync' });
      }
      return originalConnectSync.apply(this, args);
    };
  if (connectSync) prototype.connectSync = connectSync;
  return () => {
    if (prototype.send === send) prototype.send = originalSend;
    if (prototype.connect === connect) prototype.connect = originalConnect;
    if (connectSync && prototype.connectSync === connectSync) prototype.connectSync = originalConnectSync;
  };
}
