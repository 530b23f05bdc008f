import type { EgressGrant } from './allow-list.ts';
import type { EgressRefusedError, RefusedAttempt } from './egress-refused-error.ts';

/** What workers get in the mirror profile. */
export type WorkerPolicy = 'lockdown' | 'refuse';

/**
 * What each patched layer asks the lockdown. The layers decide nothing themselves: they turn the
 * arguments of the function they guard into a destination and ask here.
 */
export interface EgressPolicy {
  /** The grant for a connection or datagram to this IP address and port. */
  address(address: string, port: number): EgressGrant | undefined;
  /** The grant for a connection that asked for this hostname and port. */
  name(hostname: string, port: number): EgressGrant | undefined;
  /** The grant for this Unix socket path. */
  path(path: string): EgressGrant | undefined;
  /**
   * Marks addresses the socket layer let through by name (a hostname grant: the addresses that name
   * resolved to), for the handle layer below it, which sees only the address. Exact addresses and
   * this port only; the marks end when the owner emits `close`, or at `withdraw`.
   */
  approve(owner: object, addresses: readonly string[], port: number): void;
  /** Whether `approve` was called for this owner, address (canonical) and port, and not withdrawn since. */
  approved(owner: object | undefined, address: string, port: number): boolean;
  /** Forgets the owner's approvals and what it asked for: a socket starts a new connect attempt. */
  withdraw(owner: object): void;
  /** Remembers what a socket's caller asked for (`localhost:4567`), for the handle layer's refusal. */
  note(owner: object, asked: string): void;
  noted(owner: object | undefined): string | undefined;
  /**
   * Whether the handle layer holds. Then it is the one that refuses a TCP or Unix connection: it
   * sees only connects that reach the network, so a socket whose handle an interceptor replaced
   * (http-stub's replay, through @mswjs/interceptors) is never refused for a connection it never
   * makes. Without it, the socket layer refuses by itself.
   */
  readonly handleLayer: boolean;
  /** The handle layer's refusal of a socket's connect, kept for the socket layer to fail the socket with (instead of node's `connect EACCES`). */
  remember(owner: object, error: EgressRefusedError): void;
  /** Takes back what `remember` kept. */
  recall(owner: object): EgressRefusedError | undefined;
  /** Journals the refusal (`blocked`) and returns the error to fail the attempt with. */
  refuse(attempt: RefusedAttempt): EgressRefusedError;
  /** Journals something let through that the journal should show (`passed`): an allowed child process. */
  passed(dependency: string, operation: string, reason: string): void;
  /** Whether child processes may start. */
  readonly childProcesses: boolean;
  readonly workers: WorkerPolicy;
  /** The preload file a worker is started with, when it can be found. */
  readonly preloadPath: string | undefined;
}
