import { existsSync } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BroadcastChannel, isMainThread, setEnvironmentData, threadId } from 'node:worker_threads';
import type { JournalEntry } from '../journal/journal-event.ts';
import { AllowList, type EgressGrant } from './allow-list.ts';
import { canonicalHost, parseDestination, type Destination, type DestinationInput } from './destination.ts';
import type { EgressPolicy, WorkerPolicy } from './egress-policy.ts';
import { EgressRefusedError, type RefusedAttempt } from './egress-refused-error.ts';
import { guardChildProcesses } from './guard-child-process.ts';
import { guardDgram } from './guard-dgram.ts';
import { guardHandles } from './guard-handles.ts';
import { guardNetConnect, guardTlsConnect } from './guard-net.ts';
import { guardPriority } from './guard-priority.ts';
import { guardWorkers } from './guard-worker.ts';
import { guardLoaderHooks } from './guard-loader-hooks.ts';
import { isThePreload, preloadEntries, ranBeforePreload } from './preload-position.ts';
import { networkingLoaded } from './networking-modules.ts';

// Loaded through process.getBuiltinModule, not imported: the preload's first module records which
// networking modules were loaded before it (preload-snapshot.ts), so none of its own may load first.
const dgram = process.getBuiltinModule('node:dgram');
const net = process.getBuiltinModule('node:net');

/** The BroadcastChannel between the lockdown of the main thread and those of its workers, and the environment-data key workers read the allow-list from. */
export const EGRESS_CHANNEL = 'mirrorguard:egress';

// One lockdown per thread, shared by every copy of this package loaded in it (duplicate installs,
// the ESM and CommonJS builds, the preload's own bundle).
const STATE_KEY = Symbol.for('mirrorguard.egress.lockdown');
const PENDING_LIMIT = 1_000;

/** Anything that journals: a `Journal` (of this copy of the package or another). */
export interface JournalLike {
  record(entry: JournalEntry): unknown;
}

/** What a worker receives (environment data) and what the main thread broadcasts on every change. */
export interface EgressSnapshot {
  readonly grants: ReadonlyArray<{ readonly destination: Destination; readonly reason: string; readonly by: string }>;
  readonly childProcesses: boolean;
  readonly workers: WorkerPolicy;
}

type ChannelMessage = { readonly type: 'blocked'; readonly entry: JournalEntry; readonly threadId: number } | { readonly type: 'snapshot'; readonly snapshot: EgressSnapshot };

/**
 * The process's egress lockdown (one per thread): every connection, datagram, child process and
 * worker is checked against the declared destinations, at the socket layer and again at the
 * handles below it. Installed once, it stays for the life of the thread: closing the guards does
 * not take it out (see `dispose`).
 */
export interface EgressLockdown {
  /** The patched functions that hold, outermost first. */
  readonly layers: readonly string[];
  /** Layers that could not be installed here (the handle layer under `--permission`). */
  readonly missingLayers: readonly string[];
  /** Whether the handle layer holds (and refuses TCP and Unix connects); without it the socket layer refuses by itself. */
  readonly handleLayer: boolean;
  /**
   * Whether the preload installed it before the app started: before the main module loaded, with no
   * socket open. False for one installed from code (`installEgressLockdown`, `createGuards`), or by
   * the preload loaded late. Fixed when the lockdown is made; a strict mirror requires it.
   */
  readonly preloaded: boolean;
  /** How many TCP, Unix and UDP sockets were already open when it was installed (not counting stdio): they are not checked. */
  readonly openAtInstall: number;
  /**
   * What ran before the preload, when it installed the lockdown: `--require`s and `--import`s ahead
   * of it in node's options (NODE_OPTIONS included), networking modules already loaded (`node:http`),
   * the app itself. Empty for a lockdown the preload installed first; any entry makes it not `preloaded`.
   */
  readonly ranBefore: readonly string[];
  /** Who installed it: the preload, `createGuards`, or other code (`installEgressLockdown`). */
  readonly installedBy: InstalledBy;
  /** Declares a destination. Throws `MG_ERR_EGRESS_INVALID` for one it cannot parse. */
  allow(destination: DestinationInput, reason: string, by: string): EgressGrant;
  /** Every declared destination, in order. */
  grants(): readonly EgressGrant[];
  readonly childProcesses: boolean;
  readonly workers: WorkerPolicy;
  /** Sets the process-wide settings (the last call wins). */
  configure(settings: { readonly childProcesses?: boolean; readonly workers?: WorkerPolicy }): void;
  /**
   * Journals refusals into this journal (into each attached one) until the returned function is
   * called. Refusals from before the first journal was attached are handed to it first.
   */
  attachJournal(journal: JournalLike): () => void;
  /** How many refusals were not journaled: more than 1,000 before any journal was attached. */
  readonly lostEvents: number;
  /**
   * Takes every patch out again and forgets the lockdown. For test suites that run several
   * profiles in one process; a mirror never calls it — `createGuards` and `close()` do not.
   */
  dispose(): void;
}

function findPreload(): string | undefined {
  // The bundles keep the preload beside them (dist/egress-preload.cjs); the sources beside this file.
  const here = typeof __filename === 'string' ? __filename : fileURLToPath(import.meta.url);
  for (const name of ['egress-preload.cjs', 'egress-preload.ts']) {
    const path = join(dirname(here), name);
    if (existsSync(path)) return path;
  }
  return undefined;
}

function operationOf(attempt: RefusedAttempt): string {
  if (attempt.kind === 'spawn') return `spawn ${attempt.target}`;
  if (attempt.kind === 'worker') return `worker ${attempt.target}`;
  if (attempt.kind === 'signal') return `signal ${attempt.target}`;
  if (attempt.kind === 'priority') return `priority ${attempt.target}`;
  return `${attempt.kind} ${attempt.protocol ?? 'tcp'} ${attempt.target}${attempt.asked === undefined ? '' : ` (asked ${attempt.asked})`}`;
}

class Lockdown implements EgressLockdown, EgressPolicy {
  #allow = new AllowList();
  /** Grants made in this thread (a worker also holds the main thread's, from its snapshots). */
  readonly #local: EgressGrant[] = [];
  readonly #approvals = new WeakMap<object, Set<string>>();
  readonly #asked = new WeakMap<object, string>();
  readonly #refusals = new WeakMap<object, EgressRefusedError>();
  handleLayer = false;
  readonly #journals = new Set<JournalLike>();
  readonly #pending: JournalEntry[] = [];
  readonly #undo: Array<() => void> = [];
  readonly #channel: BroadcastChannel;
  #lost = 0;
  #childProcesses = false;
  #workers: WorkerPolicy = 'lockdown';
  readonly preloadPath: string | undefined = findPreload();
  readonly layers: string[] = [];
  readonly missingLayers: string[] = [];

  declare readonly preloaded: boolean;
  declare readonly openAtInstall: number;
  declare readonly installedBy: InstalledBy;
  declare readonly ranBefore: readonly string[];

  constructor(snapshot: EgressSnapshot | undefined, origin: InstallOrigin) {
    // How it was installed is fixed here, and cannot be changed or forged afterwards (not writable, not configurable).
    for (const [key, value] of Object.entries(origin)) Object.defineProperty(this, key, { value, enumerable: true, writable: false, configurable: false });
    if (snapshot !== undefined) this.#apply(snapshot);
    this.#channel = new BroadcastChannel(EGRESS_CHANNEL);
    this.#channel.onmessage = (message: unknown) => this.#receive((message as { data: ChannelMessage }).data);
    // Neither thread stays alive for the channel.
    (this.#channel as unknown as { unref(): void }).unref();
  }

  install(): void {
    const checked = new WeakSet<object>();
    const handles = guardHandles(this);
    this.handleLayer = ['tcp_wrap TCP.prototype.connect', 'tcp_wrap TCP.prototype.connect6', 'pipe_wrap Pipe.prototype.connect'].every((layer) => handles.installed.includes(layer));
    this.#undo.push(guardNetConnect(this, checked), guardTlsConnect(this, checked), guardDgram(this), guardChildProcesses(this));
    const priority = guardPriority(this);
    this.#undo.push(priority.dispose);
    this.#undo.push(guardWorkers(this, syncBuiltinESMExports));
    // The hooks thread of module.register() starts locked down only when the preload is a --require of node's options.
    const hooksThreadLocked = preloadEntries(process.execArgv, process.env.NODE_OPTIONS).some((entry) => entry.flag === '--require' && this.preloadPath !== undefined && isThePreload(entry.value, this.preloadPath));
    if (!hooksThreadLocked) {
      this.#undo.push(guardLoaderHooks(this, syncBuiltinESMExports));
    }
    this.#undo.push(handles.dispose);
    // ESM named imports of node:tls, node:child_process, node:os and node:worker_threads follow the patched exports.
    syncBuiltinESMExports();
    this.layers.push(
      'net.Socket.prototype.connect',
      'tls.connect',
      'dgram.Socket.prototype.send',
      'dgram.Socket.prototype.connect',
      'child_process.ChildProcess.prototype.spawn',
      'child_process.spawnSync, execSync, execFileSync',
      ...(typeof (process as { execve?: unknown }).execve === 'function' ? ['process.execve'] : []),
      'process.kill (process._kill)',
      ...priority.installed,
      'worker_threads.Worker',
      ...handles.installed,
      ...(hooksThreadLocked ? [] : ['module.register']),
    );
    this.missingLayers.push(...handles.missing);
    this.#publish();
  }

  // --- EgressPolicy: what the layers ask ---

  address(address: string, port: number): EgressGrant | undefined {
    return this.#allow.address(address, port);
  }

  name(hostname: string, port: number): EgressGrant | undefined {
    return this.#allow.name(hostname, port);
  }

  path(path: string): EgressGrant | undefined {
    return this.#allow.path(path);
  }

  approve(owner: object, addresses: readonly string[], port: number): void {
    let approved = this.#approvals.get(owner);
    if (approved === undefined) {
      const created = new Set<string>();
      this.#approvals.set(owner, created);
      approved = created;
      // The approvals end with the socket: one closed and connected again (or sent from again) starts with none.
      const emitter = owner as { once?: (event: string, listener: () => void) => unknown };
      if (typeof emitter.once === 'function') {
        emitter.once('close', () => {
          if (this.#approvals.get(owner) === created) this.#approvals.delete(owner);
        });
      }
    }
    for (const address of addresses) approved.add(`${canonicalHost(address)}|${port}`);
  }

  approved(owner: object | undefined, address: string, port: number): boolean {
    const approved = owner === undefined ? undefined : this.#approvals.get(owner);
    return approved !== undefined && approved.has(`${address}|${port}`);
  }

  withdraw(owner: object): void {
    this.#approvals.delete(owner);
    this.#asked.delete(owner);
  }

  note(owner: object, asked: string): void {
    this.#asked.set(owner, asked);
  }

  noted(owner: object | undefined): string | undefined {
    return owner === undefined ? undefined : this.#asked.get(owner);
  }

  remember(owner: object, error: EgressRefusedError): void {
    this.#refusals.set(owner, error);
  }

  recall(owner: object): EgressRefusedError | undefined {
    const error = this.#refusals.get(owner);
    if (error !== undefined) this.#refusals.delete(owner);
    return error;
  }

  refuse(attempt: RefusedAttempt): EgressRefusedError {
    const error = new EgressRefusedError(attempt);
    const why = attempt.why ?? 'not a declared destination';
    this.#record({
      dependency: attempt.kind === 'spawn' || attempt.kind === 'worker' || attempt.kind === 'signal' || attempt.kind === 'priority' ? 'process' : 'network',
      action: 'blocked',
      operation: operationOf(attempt),
      reason: `${why} (${attempt.layer})`,
    });
    return error;
  }

  passed(dependency: string, operation: string, reason: string): void {
    this.#record({ dependency, action: 'passed', operation, reason });
  }

  get childProcesses(): boolean {
    return this.#childProcesses;
  }

  get workers(): WorkerPolicy {
    return this.#workers;
  }

  // --- EgressLockdown: what createGuards and the preload do ---

  allow(destination: DestinationInput, reason: string, by: string): EgressGrant {
    const grant = this.#allow.add(parseDestination(destination), reason, by);
    this.#local.push(grant);
    this.#publish();
    return grant;
  }

  grants(): readonly EgressGrant[] {
    return this.#allow.grants();
  }

  configure(settings: { readonly childProcesses?: boolean; readonly workers?: WorkerPolicy }): void {
    if (settings.childProcesses !== undefined) this.#childProcesses = settings.childProcesses;
    if (settings.workers !== undefined) this.#workers = settings.workers;
    this.#publish();
  }

  attachJournal(journal: JournalLike): () => void {
    this.#journals.add(journal);
    for (const entry of this.#pending.splice(0)) this.#write(journal, entry);
    return () => void this.#journals.delete(journal);
  }

  get lostEvents(): number {
    return this.#lost;
  }

  dispose(): void {
    for (const step of this.#undo.splice(0).reverse()) step();
    syncBuiltinESMExports();
    this.#channel.close();
    if (isMainThread) setEnvironmentData(EGRESS_CHANNEL, undefined);
    const global = globalThis as { [STATE_KEY]?: EgressLockdown };
    if (global[STATE_KEY] === this) delete global[STATE_KEY];
  }

  // --- journaling and the worker bridge ---

  #record(entry: JournalEntry): void {
    if (this.#journals.size > 0) {
      for (const journal of this.#journals) this.#write(journal, entry);
    } else if (!isMainThread) {
      // A worker's refusals are journaled by the main thread's lockdown.
      this.#channel.postMessage({ type: 'blocked', entry, threadId } satisfies ChannelMessage);
    } else if (this.#pending.length < PENDING_LIMIT) {
      this.#pending.push(entry);
    } else {
      this.#lost += 1;
    }
  }

  #write(journal: JournalLike, entry: JournalEntry): void {
    try {
      journal.record(entry);
    } catch {
      // A journal that fails must not turn a refusal into another error.
      this.#lost += 1;
    }
  }

  #receive(message: ChannelMessage): void {
    if (message.type === 'blocked' && isMainThread) {
      this.#record({ ...message.entry, reason: `${message.entry.reason}, in worker thread ${message.threadId}` });
    } else if (message.type === 'snapshot' && !isMainThread) {
      this.#apply(message.snapshot);
    }
  }

  /** A worker takes the main thread's grants and settings (keeping its own grants). */
  #apply(snapshot: EgressSnapshot): void {
    const allow = new AllowList();
    for (const grant of snapshot.grants) allow.add(grant.destination, grant.reason, grant.by);
    for (const grant of this.#local) allow.add(grant.destination, grant.reason, grant.by);
    this.#allow = allow;
    this.#childProcesses = snapshot.childProcesses;
    this.#workers = snapshot.workers;
  }

  /** The main thread hands its grants to workers: to new ones as environment data, to running ones by broadcast. */
  #publish(): void {
    if (!isMainThread) return;
    const snapshot: EgressSnapshot = {
      grants: this.#allow.grants().map(({ destination, reason, by }) => ({ destination, reason, by })),
      childProcesses: this.#childProcesses,
      workers: this.#workers,
    };
    setEnvironmentData(EGRESS_CHANNEL, snapshot);
    this.#channel?.postMessage({ type: 'snapshot', snapshot } satisfies ChannelMessage);
  }
}

/** The lockdown of this thread, when one is installed. */
export function getEgressLockdown(): EgressLockdown | undefined {
  return (globalThis as { [STATE_KEY]?: EgressLockdown })[STATE_KEY];
}

export interface InstallEgressLockdownOptions {
  /** Destinations to declare now. */
  readonly allow?: readonly DestinationInput[];
  /** Who declares them, for the grants: `MIRRORGUARD_EGRESS_ALLOW`, `egress.allow`. */
  readonly by?: string;
  /** A worker's start: the main thread's grants and settings. */
  readonly snapshot?: EgressSnapshot;
}

/** Who installed a lockdown. */
export type InstalledBy = 'preload' | 'createGuards' | 'code';

interface InstallOrigin {
  readonly installedBy: InstalledBy;
  readonly preloaded: boolean;
  readonly openAtInstall: number;
  readonly ranBefore: readonly string[];
}

/**
 * The sockets of this thread open now (TCP, Unix, UDP; connected or connecting), stdio aside:
 * what a lockdown installed now would never check.
 */
function openSockets(): number {
  const active = (process as unknown as { _getActiveHandles?: () => unknown[] })._getActiveHandles?.() ?? [];
  let open = 0;
  for (const handle of active) {
    if (handle instanceof net.Socket) {
      const fd = (handle as unknown as { _handle?: { fd?: unknown } | null })._handle?.fd;
      if (typeof fd === 'number' && fd >= 0 && fd <= 2) continue;
      open += 1;
    } else if (handle instanceof dgram.Socket) {
      open += 1;
    }
  }
  return open;
}

/**
 * Installs the egress lockdown in this thread, or returns the one already installed (by this or
 * another copy of the package), after declaring `allow` on it. `createGuards` calls it in the
 * mirror profile. A lockdown installed here is never `preloaded`: only the preload's is.
 */
export function installEgressLockdown(options: InstallEgressLockdownOptions = {}): EgressLockdown {
  return install(options, () => ({ installedBy: 'code', preloaded: false, openAtInstall: openSockets(), ranBefore: [] }));
}

/** createGuards' install (not exported from the package): a lockdown it installs is not preloaded either. */
export function installLockdownForGuards(): EgressLockdown {
  return install({}, () => ({ installedBy: 'createGuards', preloaded: false, openAtInstall: openSockets(), ranBefore: [] }));
}

/** What the preload knows of its own start: its file, and what had loaded before it (see preload-snapshot.ts). */
export interface PreloadStart {
  /** The preload's own file, to find it among node's `--require`s and `--import`s. */
  readonly self: string | undefined;
  /** Networking modules node had loaded before the preload's first line: `node:http`, … */
  readonly loadedBefore: readonly string[];
}

/**
 * The preload's install (not exported from the package: only egress-preload.ts calls it). The
 * lockdown it makes is `preloaded` when nothing ran before it: it is the first `--require` or
 * `--import` node runs (NODE_OPTIONS included), no networking module was loaded before it, no
 * main module loaded yet, no socket open. One already installed from code stays as it was: not preloaded.
 */
export function installPreloadedLockdown(options: InstallEgressLockdownOptions = {}, start: PreloadStart = { self: undefined, loadedBefore: [] }): EgressLockdown {
  return install(options, () => {
    const openAtInstall = openSockets();
    const ranBefore: string[] = [];
    // A CommonJS main module that requires the preload itself (late) has already started; an ESM one is caught by its open sockets.
    if ((process as { mainModule?: unknown }).mainModule !== undefined) ranBefore.push('the main module (it loaded the preload itself)');
    // Only the main thread's options are the process's: a worker's have the preload appended by the worker guard.
    if (isMainThread) ranBefore.push(...(start.self === undefined ? ['(the preload could not tell its own file)'] : ranBeforePreload(start.self)));
    ranBefore.push(...start.loadedBefore.map((name) => `${name} (loaded before the preload)`));
    // The preload's first module is evaluated once: one loaded again later (another URL of it, its
    // first run in another profile) has an old record. What the preload never loads itself must not be there now either.
    for (const name of networkingLoaded(['tls', 'dgram', 'child_process'])) if (!start.loadedBefore.includes(name)) ranBefore.push(`${name} (loaded before the lockdown)`);
    return { installedBy: 'preload', preloaded: openAtInstall === 0 && ranBefore.length === 0, openAtInstall, ranBefore };
  });
}

function install(options: InstallEgressLockdownOptions, origin: () => InstallOrigin): EgressLockdown {
  const destinations = (options.allow ?? []).map((input) => ({ input, destination: parseDestination(input) }));
  let lockdown = getEgressLockdown();
  if (lockdown === undefined) {
    const created = new Lockdown(options.snapshot, origin());
    Object.defineProperty(globalThis, STATE_KEY, { value: created, enumerable: false, writable: false, configurable: true });
    created.install();
    lockdown = created;
  }
  for (const { destination } of destinations) lockdown.allow(destination, 'declared when the lockdown was installed', options.by ?? 'installEgressLockdown');
  return lockdown;
}
