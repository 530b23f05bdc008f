import { MirrorGuardError } from '../errors/mirrorguard-error.ts';

/** What the lockdown refused, as the error, the journal and the message describe it. */
export interface RefusedAttempt {
  readonly kind: 'connect' | 'send' | 'spawn' | 'worker' | 'signal' | 'priority';
  readonly protocol?: 'tcp' | 'udp' | 'unix';
  /** What was attempted: `127.0.0.1:4567`, `unix:/run/app.sock`, `/bin/sh -c ls`, a worker's script, `SIGTERM to process 123`. */
  readonly target: string;
  /** What the caller asked for, when it differs from `target`: `localhost:4567`. */
  readonly asked?: string;
  /** The `egress.allow` entry that would let it through (connections and datagrams only). */
  readonly allowAs?: string;
  /** The patched function that refused it: `net.Socket.prototype.connect`, `tcp_wrap TCP.prototype.connect`, … */
  readonly layer: string;
  /** Why, when it is not "not a declared destination". */
  readonly why?: string;
  /** How to let it through, when not by an `egress.allow` entry. */
  readonly howToAllow?: string;
}

function message(attempt: RefusedAttempt): string {
  const what =
    attempt.kind === 'spawn'
      ? `start a child process (${attempt.target})`
      : attempt.kind === 'worker'
        ? `start a worker thread (${attempt.target})`
        : attempt.kind === 'signal'
          ? `send ${attempt.target}`
          : attempt.kind === 'priority'
            ? `set the scheduling priority of ${attempt.target}`
          : `${attempt.kind} ${attempt.protocol ?? 'tcp'} to ${attempt.target}${attempt.asked === undefined ? '' : ` (asked for ${attempt.asked})`}`;
  const why = attempt.why ?? 'it is not a declared destination of this mirror';
  const how =
    attempt.howToAllow ??
    (attempt.allowAs !== undefined
      ? `allow it with createGuards({ egress: { allow: ['${attempt.allowAs}'] } }), or declare it from its provider with context.allowDestination(); ` +
        `for a connection made before createGuards, start node with MIRRORGUARD_EGRESS_ALLOW=${attempt.allowAs}`
      : attempt.kind === 'spawn' || attempt.kind === 'signal' || attempt.kind === 'priority'
        ? 'allow child processes with createGuards({ egress: { childProcesses: true } }) (each one is journaled)'
        : "set createGuards({ egress: { workers: 'lockdown' } }) so that workers start with the lockdown preloaded");
  return `mirrorguard egress lockdown refused to ${what}: ${why}. To let it through, ${how}`;
}

/**
 * The error of every refusal of the egress lockdown (code `MG_ERR_EGRESS_REFUSED`): it names what
 * was attempted and how to allow it. Clients wrap it (undici's `fetch failed` keeps it as `cause`).
 */
export class EgressRefusedError extends MirrorGuardError {
  /** What was attempted: `127.0.0.1:4567`, `unix:/run/app.sock`, a command line, a worker's script. */
  readonly destination: string;
  /** The `egress.allow` entry that would allow it, when one would. */
  readonly allowAs: string | undefined;
  /** The patched function that refused it. */
  readonly layer: string;

  constructor(attempt: RefusedAttempt) {
    super('MG_ERR_EGRESS_REFUSED', message(attempt));
    this.name = 'EgressRefusedError';
    this.destination = attempt.target;
    this.allowAs = attempt.allowAs;
    this.layer = attempt.layer;
  }
}
