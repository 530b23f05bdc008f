import { getSystemErrorMap } from 'node:util';
import { canonicalHost, describeDestination } from './destination.ts';
import type { EgressPolicy } from './egress-policy.ts';

type Method = (this: object, ...args: unknown[]) => unknown;
type Prototype = Record<string, Method>;

/** libuv's EACCES, as the handles return errors: net, dgram and child_process turn it into their usual error. */
const UV_EACCES: number = [...getSystemErrorMap()].find(([, [name]]) => name === 'EACCES')?.[0] ?? -13;

/** The wrap classes below net, dgram and child_process, where `process.binding` still reaches them (not under `--permission`). */
function binding(name: string): Record<string, unknown> | undefined {
  try {
    return (process as unknown as { binding(name: string): Record<string, unknown> }).binding(name);
  } catch {
    return undefined;
  }
}

function prototypeOf(module: Record<string, unknown> | undefined, className: string): Prototype | undefined {
  const constructor = module?.[className] as { prototype?: Prototype } | undefined;
  return constructor?.prototype;
}

// The handle's owner (the net.Socket or dgram.Socket) sits under an internal symbol; found by its description.
let ownerSymbol: symbol | undefined;
function ownerOf(handle: object): object | undefined {
  ownerSymbol ??= Object.getOwnPropertySymbols(handle).find((symbol) => symbol.description === 'owner_symbol');
  return ownerSymbol === undefined ? undefined : ((handle as Record<symbol, object | undefined>)[ownerSymbol] ?? undefined);
}

/** One layer that was or was not installed, for `EgressLockdown.layers`. */
export interface HandleLayers {
  readonly installed: readonly string[];
  readonly missing: readonly string[];
  readonly dispose: () => void;
}

/**
 * The last layer: the methods of the handles themselves, below every public API — TCP and Pipe
 * connect, every UDP send to an address and UDP connect, Process spawn, spawn_sync. They see the
 * address after every lookup, whatever function above was captured before the lockdown or replaced
 * after it, and only connections that really start: an interceptor that replaced a socket's handle
 * (a mocked connection) never reaches them. A refusal here returns EACCES (the socket layer then
 * fails a net socket with the refusal itself; dgram and child_process report `send EACCES`,
 * `spawn EACCES`) or, for spawn_sync, throws the refusal; each is journaled.
 *
 * `process.binding` is deprecated and refused under `--permission`: where it is missing, this
 * layer is missing, and the layers above are what holds.
 */
export function guardHandles(policy: EgressPolicy): HandleLayers {
  const installed: string[] = [];
  const missing: string[] = [];
  const undo: Array<() => void> = [];

  function patch(prototype: Prototype | undefined, method: string, layer: string, make: (original: Method) => Method): void {
    const original = prototype?.[method];
    if (prototype === undefined || typeof original !== 'function') {
      missing.push(layer);
      return;
    }
    const replacement = make(original);
    prototype[method] = replacement;
    installed.push(layer);
    undo.push(() => {
      if (prototype[method] === replacement) prototype[method] = original;
    });
  }

  const allowsAddress = (handle: object, address: unknown, port: unknown): boolean => {
    if (typeof address !== 'string' || typeof port !== 'number') return false;
    return policy.address(address, port) !== undefined || policy.approved(ownerOf(handle), canonicalHost(address), port);
  };
  const refuseAddress = (handle: object, protocol: 'tcp' | 'udp', kind: 'connect' | 'send', address: unknown, port: unknown, layer: string): number => {
    const target = typeof address === 'string' && typeof port === 'number' ? describeDestination({ host: canonicalHost(address), port }) : `${String(address)}:${String(port)}`;
    const owner = ownerOf(handle);
    const asked = policy.noted(owner);
    const error = policy.refuse({ kind, protocol, target, ...(asked !== undefined && asked !== target && { asked }), allowAs: asked ?? target, layer });
    if (owner !== undefined) policy.remember(owner, error);
    return UV_EACCES;
  };

  const tcp = prototypeOf(binding('tcp_wrap'), 'TCP');
  for (const method of ['connect', 'connect6']) {
    const layer = `tcp_wrap TCP.prototype.${method}`;
    patch(tcp, method, layer, (original) =>
      function connect(this: object, ...args: unknown[]): unknown {
        const [, address, port] = args;
        return allowsAddress(this, address, port) ? original.apply(this, args) : refuseAddress(this, 'tcp', 'connect', address, port, layer);
      },
    );
  }

  const pipe = prototypeOf(binding('pipe_wrap'), 'Pipe');
  patch(pipe, 'connect', 'pipe_wrap Pipe.prototype.connect', (original) =>
    function connect(this: object, ...args: unknown[]): unknown {
      const path = args[1];
      if (typeof path === 'string' && policy.path(path) !== undefined) return original.apply(this, args);
      const target = describeDestination({ path: String(path) });
      const error = policy.refuse({ kind: 'connect', protocol: 'unix', target, allowAs: target, layer: 'pipe_wrap Pipe.prototype.connect' });
      const owner = ownerOf(this);
      if (owner !== undefined) policy.remember(owner, error);
      return UV_EACCES;
    },
  );

  const udp = prototypeOf(binding('udp_wrap'), 'UDP');
  for (const method of ['send', 'send6']) {
    const layer = `udp_wrap UDP.prototype.${method}`;
    patch(udp, method, layer, (original) =>
      function send(this: object, ...args: unknown[]): unknown {
        // send(req, list, count, port, address, hasCallback); a connected socket's send has no port and address.
        if (args.length < 6) return original.apply(this, args);
        const [, , , port, address] = args;
        return allowsAddress(this, address, port) ? original.apply(this, args) : refuseAddress(this, 'udp', 'send', address, port, layer);
      },
    );
  }
  for (const method of ['connect', 'connect6']) {
    const layer = `udp_wrap UDP.prototype.${method}`;
    patch(udp, method, layer, (original) =>
      function connect(this: object, ...args: unknown[]): unknown {
        const [address, port] = args;
        return allowsAddress(this, address, port) ? original.apply(this, args) : refuseAddress(this, 'udp', 'connect', address, port, layer);
      },
    );
  }

  const refuseSpawn = (file: unknown, layer: string) =>
    policy.refuse({ kind: 'spawn', target: String(file).slice(0, 300), layer, why: 'child processes are refused in the mirror profile (refused at the handle, below the public APIs)' });

  patch(prototypeOf(binding('process_wrap'), 'Process'), 'spawn', 'process_wrap Process.prototype.spawn', (original) =>
    function spawn(this: object, ...args: unknown[]): unknown {
      if (policy.childProcesses) return original.apply(this, args);
      // Node 24 passes the file first; Node 22 an options object with `file`.
      const [first] = args;
      refuseSpawn(typeof first === 'string' ? first : (first as { file?: unknown } | undefined)?.file, 'process_wrap Process.prototype.spawn');
      return UV_EACCES;
    },
  );

  patch(binding('spawn_sync') as Prototype | undefined, 'spawn', 'spawn_sync spawn', (original) =>
    function spawn(this: object, ...args: unknown[]): unknown {
      if (policy.childProcesses) return original.apply(this, args);
      throw refuseSpawn((args[0] as { file?: unknown } | undefined)?.file, 'spawn_sync spawn');
    },
  );

  return {
    installed,
    missing,
    dispose: () => {
      for (const step of undo.reverse()) step();
    },
  };
}
