import { parseDestination, type DestinationInput } from '../egress/destination.ts';
import { getEgressLockdown, installLockdownForGuards, type EgressLockdown } from '../egress/egress-lockdown.ts';
import type { WorkerPolicy } from '../egress/egress-policy.ts';
import { MirrorGuardError } from '../errors/mirrorguard-error.ts';
import { Journal, type JournalOptions } from '../journal/journal.ts';
import { warnAtStartUp } from '../journal/safety-warning.ts';
import { isProfile, PROFILES, resolveProfile, resolveStrict, type Profile, type ProfileEnv } from '../profile/resolve-profile.ts';
import { isProvider, type ProfileImplementation, type Provider, type ProviderContext } from './define-provider.ts';

// `any`: a provider's type appears in both build (out) and close (in) positions, so a map of
// differently typed providers fits no narrower bound.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type ProviderMap = Record<string, Provider<any>>;

const RESERVED = ['profile', 'journal', 'close'] as const;
type Reserved = (typeof RESERVED)[number];

export type GuardInstances<P extends ProviderMap> = { readonly [K in keyof P]: P[K] extends Provider<infer T> ? T : never };

/** What `createGuards` returns: each provider's instance under its key, plus the profile, the journal and `close`. */
export type Guards<P extends ProviderMap> = GuardInstances<P> & {
  readonly profile: Profile;
  readonly journal: Journal;
  /** Closes every instance in reverse build order, then the journal if `createGuards` made it. Idempotent. */
  close(): Promise<void>;
};

export interface CreateGuardsOptions<P extends ProviderMap> {
  /** The dependencies, by name. `profile`, `journal` and `close` are reserved. */
  readonly providers: P & { readonly [K in Reserved]?: never };
  /** Overrides the environment. */
  readonly profile?: Profile;
  /** Where the profile (and `MIRROR_STRICT`) is read from when not given as options; `process.env` by default. */
  readonly env?: ProfileEnv;
  /**
   * Turn every start-up safety warning into a refusal: each provider makes its guard refuse what it
   * would otherwise journal (and print) as `warned`. `MIRROR_STRICT=1` by default; false otherwise.
   */
  readonly strict?: boolean;
  /** A journal to share, or options for the one `createGuards` makes (and closes). */
  readonly journal?: Journal | Omit<JournalOptions, 'profile'>;
  /** The egress lockdown of the mirror profile: what the process may reach besides what the providers declare. */
  readonly egress?: EgressOptions;
}

/** The egress lockdown's options. The lockdown runs in the mirror profile only; elsewhere the options are checked and unused. */
export interface EgressOptions {
  /** Destinations the app itself connects to, besides the providers' own: `'metrics:8125'`, `'[::1]:9000'`, `'unix:/run/app.sock'`, `{ host, port }`, `{ path }`. */
  readonly allow?: readonly DestinationInput[];
  /** Let child processes start; each is journaled as `passed`. Default `false`: refused. */
  readonly childProcesses?: boolean;
  /** `'lockdown'` (default): a worker thread starts with the lockdown preloaded; `'refuse'`: workers are refused. */
  readonly workers?: WorkerPolicy;
}

interface Built {
  readonly name: string;
  readonly instance: unknown;
  readonly implementation: ProfileImplementation<unknown>;
  readonly context: ProviderContext;
}

function chooseProfile(options: CreateGuardsOptions<ProviderMap>): Profile {
  if (options.profile === undefined) return resolveProfile(options.env);
  if (!isProfile(options.profile)) {
    throw new MirrorGuardError(
      'MG_ERR_PROFILE_INVALID',
      `profile option ${JSON.stringify(options.profile)} is not accepted: use one of ${PROFILES.join(', ')}`,
    );
  }
  return options.profile;
}

function checkEgress(egress: EgressOptions | undefined): void {
  for (const destination of egress?.allow ?? []) parseDestination(destination);
  if (egress?.workers !== undefined && egress.workers !== 'lockdown' && egress.workers !== 'refuse') {
    throw new MirrorGuardError('MG_ERR_EGRESS_INVALID', `egress.workers ${JSON.stringify(egress.workers)} is not accepted: use 'lockdown' or 'refuse'`);
  }
}

const USE_THE_PRELOAD = 'connections opened before it (at module load, keep-alive pools) are not covered; start node with --require @mirrorguard/core/egress-preload';
const NOT_PRELOADED = `egress lockdown installed by createGuards, not at start-up: ${USE_THE_PRELOAD}`;

/**
 * Why this lockdown (or none) is not one the preload installed before the app started; undefined
 * when it is. `again`: one an earlier createGuards installed (and warned about).
 */
function notPreloaded(existing: EgressLockdown | undefined): { operation: string; reason: string; again?: true } | undefined {
  if (existing === undefined) return { operation: 'egress lockdown installed by createGuards', reason: NOT_PRELOADED };
  // A lockdown of a copy of the package without the mark is not taken for a preloaded one either.
  if (existing.preloaded === true) return undefined;
  if (existing.installedBy === 'createGuards') return { operation: 'egress lockdown installed by createGuards', reason: NOT_PRELOADED, again: true };
  if (existing.installedBy !== 'preload') {
    return { operation: 'egress lockdown installed from code', reason: `egress lockdown installed from code (installEgressLockdown), not by the preload at start-up: ${USE_THE_PRELOAD}` };
  }
  const open = typeof existing.openAtInstall === 'number' && existing.openAtInstall > 0 ? `, with ${existing.openAtInstall} socket(s) already open` : '';
  const ranBefore = Array.isArray(existing.ranBefore) && existing.ranBefore.length > 0 ? `, after ${existing.ranBefore.join('; ')}` : '';
  return {
    operation: 'egress lockdown installed by the preload after the app started',
    reason: `egress lockdown installed by the preload after other code ran${open}${ranBefore}: ${USE_THE_PRELOAD}, first — before every other --require and --import, NODE_OPTIONS included`,
  };
}

/**
 * The mirror's lockdown, installed before any provider builds (or the one the preload installed),
 * with the user's destinations declared and this journal attached. Returns how to detach the journal.
 * Nothing takes the lockdown out again: a mirror that is closing keeps refusing. Not installed by
 * the preload before the app started (installed here, from code, or by the preload loaded late), it
 * is a start-up weakness: warned, or refused when strict.
 */
function lockDown(egress: EgressOptions | undefined, journal: Journal, strict: boolean): { lockdown: EgressLockdown; detach: () => void } {
  const weakness = notPreloaded(getEgressLockdown());
  if (weakness !== undefined && strict) throw new MirrorGuardError('MG_ERR_EGRESS_NOT_PRELOADED', `strict mirror: the ${weakness.reason}`);
  const lockdown = installLockdownForGuards();
  const detach = lockdown.attachJournal(journal);
  if (weakness !== undefined && weakness.again !== true) warnAtStartUp(journal, { dependency: 'network', operation: weakness.operation, reason: weakness.reason }, 'MG_ERR_EGRESS_NOT_PRELOADED');
  lockdown.configure({ childProcesses: egress?.childProcesses ?? false, workers: egress?.workers ?? 'lockdown' });
  for (const destination of egress?.allow ?? []) lockdown.allow(destination, 'declared by the app', 'egress.allow');
  return { lockdown, detach };
}

function chooseImplementations(providers: ProviderMap, profile: Profile): Array<[string, ProfileImplementation<unknown>]> {
  const chosen: Array<[string, ProfileImplementation<unknown>]> = [];
  const unsupported: string[] = [];
  for (const [name, provider] of Object.entries(providers)) {
    if ((RESERVED as readonly string[]).includes(name)) {
      throw new MirrorGuardError('MG_ERR_PROVIDER_INVALID', `"${name}" cannot name a provider: ${RESERVED.join(', ')} are reserved`);
    }
    if (!isProvider(provider)) {
      throw new MirrorGuardError('MG_ERR_PROVIDER_INVALID', `providers.${name} is not a provider: make it with defineProvider()`);
    }
    const implementation = provider.implementation(profile);
    if (implementation === undefined) unsupported.push(`${name} (supports ${provider.profiles.join(', ') || 'no profile'})`);
    else chosen.push([name, implementation]);
  }
  if (unsupported.length > 0) {
    throw new MirrorGuardError(
      'MG_ERR_PROFILE_UNSUPPORTED',
      `no implementation for profile "${profile}" in provider(s): ${unsupported.join('; ')}`,
    );
  }
  return chosen;
}

async function closeAll(built: readonly Built[]): Promise<Array<{ name: string; error: unknown }>> {
  const failures: Array<{ name: string; error: unknown }> = [];
  for (const { name, instance, implementation, context } of [...built].reverse()) {
    try {
      await implementation.close?.(instance, context);
    } catch (error) {
      failures.push({ name, error });
    }
  }
  return failures;
}

function describe(failures: ReadonlyArray<{ name: string; error: unknown }>): string {
  return failures.map(({ name, error }) => `${name} (${(error as Error)?.message ?? String(error)})`).join(', ');
}

/**
 * Builds every provider for the resolved profile and returns the instances, typed, under their keys.
 * App code calls it the same way in every profile. Checks first that each provider supports the
 * profile, so a missing implementation fails at start-up, not at first use. When a build fails, the
 * ones already built are closed again before the error is thrown.
 */
export async function createGuards<P extends ProviderMap>(options: CreateGuardsOptions<P>): Promise<Guards<P>> {
  const profile = chooseProfile(options);
  if (options.strict !== undefined && typeof options.strict !== 'boolean') {
    throw new MirrorGuardError('MG_ERR_PROVIDER_INVALID', `strict must be true or false, got ${JSON.stringify(options.strict)}`);
  }
  const strict = options.strict ?? resolveStrict(options.env);
  const implementations = chooseImplementations(options.providers, profile);
  checkEgress(options.egress);
  const ownsJournal = !(options.journal instanceof Journal);
  const journal = options.journal instanceof Journal ? options.journal : new Journal({ ...options.journal, profile });
  if (journal.profile !== profile) {
    throw new MirrorGuardError(
      'MG_ERR_PROFILE_CONFLICT',
      `the journal passed to createGuards stamps profile "${journal.profile}" but the guards run in "${profile}"`,
    );
  }

  const egress = profile === 'mirror' ? lockDown(options.egress, journal, strict) : undefined;
  const built: Built[] = [];
  for (const [name, implementation] of implementations) {
    const allowDestination = (destination: DestinationInput, reason: string): void => {
      if (egress === undefined) parseDestination(destination);
      else egress.lockdown.allow(destination, reason, name);
    };
    const context: ProviderContext = { name, profile, journal, strict, allowDestination };
    try {
      built.push({ name, instance: await implementation.build(context), implementation, context });
    } catch (cause) {
      const failures = await closeAll(built);
      egress?.detach();
      if (ownsJournal) await journal.close().catch((error: unknown) => failures.push({ name: 'journal', error }));
      throw new MirrorGuardError(
        'MG_ERR_PROVIDER_BUILD',
        `provider "${name}" failed to build in profile "${profile}": ${(cause as Error)?.message ?? String(cause)}` +
          (failures.length > 0 ? `; closing the others also failed: ${describe(failures)}` : ''),
        { cause, errors: failures.map((failure) => failure.error) },
      );
    }
  }

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      const failures = await closeAll(built);
      // The lockdown stays (and keeps refusing); only this journal stops hearing of it.
      egress?.detach();
      if (ownsJournal) {
        try {
          await journal.close();
        } catch (error) {
          failures.push({ name: 'journal', error });
        }
      }
      if (failures.length > 0) {
        throw new MirrorGuardError('MG_ERR_CLOSE', `failed to close: ${describe(failures)}`, {
          errors: failures.map((failure) => failure.error),
        });
      }
    })();
    return closing;
  };

  const instances = Object.fromEntries(built.map(({ name, instance }) => [name, instance]));
  return Object.freeze({ ...instances, profile, journal, close }) as Guards<P>;
}
