import type { RedisOptions } from 'ioredis';
import type { CommandClassification } from '../commands/classify-command.ts';
import { routeCommand } from '../routing/route-command.ts';
import type { Route } from '../routing/route.ts';
import type { KeyState } from '../shadow/key-state.ts';
import { keyId, type KeyId } from '../memory/key-id.ts';
import { ScriptWriteTracker } from '../shadow/script-writes.ts';
import type { ConnectorState, ShadowTarget } from './connector-state.ts';

/**
 * Scripts in the connector: where they run (the shadow, as ShadowRedis routes them), what they
 * wrote there (ShadowRedis' ScriptWriteTracker: the shadow's client tracking in BCAST mode on two
 * side connections), and the copies made for a read-only script alone, dropped after it.
 */

const SCRIPTS_WITH_NUMKEYS: ReadonlySet<string> = new Set(['eval', 'evalsha', 'eval_ro', 'evalsha_ro', 'fcall', 'fcall_ro']);
const TO_SHADOW: Route = Object.freeze({ target: 'shadow', write: false, keys: [] });

/**
 * routeCommand, with what the connector decides otherwise for scripts:
 * - SCRIPT FLUSH empties the shadow's script cache, the one the mirror's scripts run from (ioredis
 *   then falls back to EVAL on NOSCRIPT, as after a flush of its server): it goes to the shadow.
 * - A script whose numkeys the server refuses (not a non-negative integer, more keys than arguments)
 *   goes to the shadow with no keys: the server answers its own error and runs nothing.
 */
export function routeWithScripts(classification: CommandClassification, argv: readonly Buffer[], state: KeyState): Route {
  if (classification.name === 'script|flush') return TO_SHADOW;
  if (classification.keys === undefined && SCRIPTS_WITH_NUMKEYS.has(classification.name) && refusedNumkeys(argv)) return TO_SHADOW;
  return routeCommand(classification, argv, state);
}

/** numkeys (argv[2]) is one the server rejects before running anything. */
function refusedNumkeys(argv: readonly Buffer[]): boolean {
  const numkeys = argv[2]?.toString('latin1');
  if (numkeys === undefined) return true;
  if (!/^(0|[1-9][0-9]{0,17})$/.test(numkeys)) return true;
  return Number(numkeys) > argv.length - 3;
}

const trackers = new WeakMap<ConnectorState, ScriptWriteTracker>();
/** Open streams per connector state: the tracker's side connections close with the last one. */
const openStreams = new WeakMap<ConnectorState, number>();

/** The tracker of what scripts write on a real shadow, shared by the connections of one connector (none for the memory engine, which runs no scripts). */
export function scriptTracker(state: ConnectorState, shadow: ShadowTarget): ScriptWriteTracker | undefined {
  if (shadow.kind !== 'redis') return undefined;
  let tracker = trackers.get(state);
  if (tracker === undefined) {
    const options: RedisOptions = { host: shadow.host, port: shadow.port, ...(shadow.username !== undefined && { username: shadow.username }), ...(shadow.password !== undefined && { password: shadow.password }) };
    trackers.set(state, (tracker = new ScriptWriteTracker(options)));
  }
  return tracker;
}

/** A stream of the connector opened (ShadowConnector.connect). */
export function streamOpened(state: ConnectorState): void {
  openStreams.set(state, (openStreams.get(state) ?? 0) + 1);
}

/** A stream closed: with the last one (quit, disconnect, a reconnect's gap) the tracker's connections close; a later script opens new ones. */
export function streamClosed(state: ConnectorState): void {
  const open = (openStreams.get(state) ?? 1) - 1;
  openStreams.set(state, open);
  if (open > 0) return;
  trackers.get(state)?.close();
  trackers.delete(state);
}

export interface ScriptRun {
  /** `write`: EVAL, EVALSHA, FCALL (or an EXEC with one queued), tracked; `read`: their _RO forms. */
  readonly kind: 'write' | 'read';
  /** The key state of the script's database. */
  readonly state: KeyState;
  /** Every database's key state (a server's invalidations do not name the database). */
  readonly states: Iterable<KeyState>;
  /** Declared keys the shadow did not own or have on their way before this script: copied for it alone. */
  readonly fresh: readonly Buffer[];
  /** state.claims once the script's own claims were made. */
  readonly claims: number;
  /** Sends the script; resolves once its reply is in (not yet handed to the app). */
  readonly send: () => Promise<void>;
  /** Deletes keys on the shadow (on the script's database). */
  readonly drop: (keys: readonly Buffer[]) => Promise<void>;
}

/**
 * Runs a script on the shadow, alone (one script at a time per connector), and before its reply
 * is released learns what it did, as ShadowRedis does: every key a write script modified becomes
 * owned (a key another database owns is distrusted: the server does not say which database);
 * tracking lost: every key not owned is distrusted; a flush hides the origin. Then the copies made
 * for a read-only script alone are dropped (the keys follow the origin again). Rejects if the
 * script could not be sent (tracking could not be set up).
 */
export async function runScript(tracker: ScriptWriteTracker, run: ScriptRun): Promise<void> {
  let sent = false;
  const send = async (): Promise<boolean> => {
    sent = true;
    await run.send();
    return true;
  };
  await tracker
    .exclusively(async () => {
      let written: ReadonlySet<KeyId> = new Set();
      if (run.kind === 'write') {
        const writes = await tracker.track(send);
        written = writes.keys;
        if (writes.flushed) for (const state of run.states) state.hideOrigin();
        if (writes.lost) {
          run.state.distrustAll();
          return;
        }
        for (const id of written) {
          if (run.state.isOwned(id)) continue;
          if ([...run.states].some((other) => other !== run.state && other.routesToShadow(id))) run.state.distrust(id);
          else run.state.markOwned(id);
        }
        return;
      }
      await send();
      const drop = run.fresh.filter((key) => {
        const id = keyId(key);
        return run.state.isOwned(id) && !run.state.originHidden && !run.state.claimedSince(id, run.claims);
      });
      if (drop.length === 0) return;
      for (const key of drop) run.state.disown(keyId(key));
      await run.drop(drop).catch(() => undefined);
    })
    .catch((error: unknown) => {
      if (!sent) throw error;
    });
}
