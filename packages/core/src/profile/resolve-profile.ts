import { MirrorGuardError } from '../errors/mirrorguard-error.ts';

/** Every profile, in documentation order. */
export const PROFILES: readonly ['live', 'mirror', 'record', 'test'] = ['live', 'mirror', 'record', 'test'];

/**
 * - `live`: plain clients, untouched.
 * - `mirror`: reads reach the real dependencies; every write is blocked, shadowed or replayed.
 * - `record`: live behaviour, plus outbound exchanges recorded and real writes journaled.
 * - `test`: hermetic unit tests, nothing reaches the network.
 */
export type Profile = (typeof PROFILES)[number];

/** The variables `resolveProfile` reads; `process.env` fits. */
export interface ProfileEnv {
  readonly MIRROR?: string | undefined;
  readonly MIRROR_PROFILE?: string | undefined;
  /** `1` (or true, yes, on): every start-up safety warning refuses start-up instead (see `createGuards`' `strict`). */
  readonly MIRROR_STRICT?: string | undefined;
}

const MIRROR_ON = ['1', 'true', 'yes', 'on'];
const MIRROR_OFF = ['0', 'false', 'no', 'off'];

export function isProfile(value: unknown): value is Profile {
  return typeof value === 'string' && (PROFILES as readonly string[]).includes(value);
}

/** Trimmed and lower-cased; an empty value counts as unset. */
function read(env: ProfileEnv, name: keyof ProfileEnv): string | undefined {
  const raw = env[name];
  if (raw === undefined) return undefined;
  const value = raw.trim().toLowerCase();
  return value === '' ? undefined : value;
}

/**
 * Reads `MIRROR` and `MIRROR_PROFILE` once and names the profile. `MIRROR=1` (or true, yes, on)
 * selects `mirror`; otherwise `MIRROR_PROFILE` decides, and `live` is the default. Unknown or
 * contradictory values throw, naming the variable, its value and the accepted values.
 */
export function resolveProfile(env: ProfileEnv = process.env): Profile {
  const mirror = read(env, 'MIRROR');
  const named = read(env, 'MIRROR_PROFILE');

  if (mirror !== undefined && !MIRROR_ON.includes(mirror) && !MIRROR_OFF.includes(mirror)) {
    throw new MirrorGuardError(
      'MG_ERR_PROFILE_INVALID',
      `MIRROR=${JSON.stringify(env.MIRROR)} is not accepted: use one of ${[...MIRROR_ON, ...MIRROR_OFF].join(', ')}, or leave it unset`,
    );
  }
  if (named !== undefined && !isProfile(named)) {
    throw new MirrorGuardError(
      'MG_ERR_PROFILE_INVALID',
      `MIRROR_PROFILE=${JSON.stringify(env.MIRROR_PROFILE)} is not accepted: use one of ${PROFILES.join(', ')}, or leave it unset`,
    );
  }

  if (mirror !== undefined && MIRROR_ON.includes(mirror)) {
    if (named === undefined || named === 'mirror') return 'mirror';
    throw new MirrorGuardError(
      'MG_ERR_PROFILE_CONFLICT',
      `MIRROR=${JSON.stringify(env.MIRROR)} selects the mirror profile but MIRROR_PROFILE=${JSON.stringify(env.MIRROR_PROFILE)} names another: unset one of them, or set MIRROR_PROFILE=mirror`,
    );
  }
  if (mirror !== undefined && named === 'mirror') {
    throw new MirrorGuardError(
      'MG_ERR_PROFILE_CONFLICT',
      `MIRROR=${JSON.stringify(env.MIRROR)} turns the mirror off but MIRROR_PROFILE=${JSON.stringify(env.MIRROR_PROFILE)} selects it: set MIRROR=1, or unset MIRROR`,
    );
  }
  return named ?? 'live';
}

/** Whether `MIRROR_STRICT` asks for strict guards: on, off (or unset), or an error for anything else. */
export function resolveStrict(env: ProfileEnv = process.env): boolean {
  const strict = read(env, 'MIRROR_STRICT');
  if (strict === undefined || MIRROR_OFF.includes(strict)) return false;
  if (MIRROR_ON.includes(strict)) return true;
  throw new MirrorGuardError(
    'MG_ERR_PROFILE_INVALID',
    `MIRROR_STRICT=${JSON.stringify(env.MIRROR_STRICT)} is not accepted: use one of ${[...MIRROR_ON, ...MIRROR_OFF].join(', ')}, or leave it unset`,
  );
}
