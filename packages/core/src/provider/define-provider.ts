import { MirrorGuardError } from '../errors/mirrorguard-error.ts';
import type { DestinationInput } from '../egress/destination.ts';
import type { Journal } from '../journal/journal.ts';
import { PROFILES, type Profile } from '../profile/resolve-profile.ts';

/** What a provider's build receives. */
export interface ProviderContext {
  /** The key the provider has in `createGuards({ providers })`. */
  readonly name: string;
  readonly profile: Profile;
  /** Where the guard journals what it intercepts. */
  readonly journal: Journal;
  /**
   * Every start-up safety warning must refuse start-up instead (`createGuards`' `strict`, or
   * `MIRROR_STRICT=1`): a provider turns on each of its guard's refusals (a database account that
   * can write, a Redis user that can write or reach other servers).
   */
  readonly strict: boolean;
  /**
   * Declares a destination the provider's clients connect to (`'host:port'`, `'[::1]:6379'`,
   * `'unix:/path'`, `{ host, port }`, `{ path }`), before they connect. In the mirror profile the
   * egress lockdown refuses every connection to anything not declared; in the other profiles
   * this does nothing. Throws `MG_ERR_EGRESS_INVALID` for a destination it cannot parse, in every profile.
   */
  allowDestination(destination: DestinationInput, reason: string): void;
}

export type BuildFunction<T> = (context: ProviderContext) => T | Promise<T>;
export type CloseFunction<T> = (instance: T, context: ProviderContext) => void | Promise<void>;

/** How one profile builds the dependency, and (optionally) how it closes it. */
export interface ProfileImplementation<T> {
  readonly build: BuildFunction<T>;
  // Method syntax on purpose: it keeps providers of different types assignable to one map.
  close?(instance: T, context: ProviderContext): void | Promise<void>;
}

/**
 * One dependency, per profile. A profile left out is not supported: `createGuards` refuses it at
 * start-up. `close` serves every profile that has no close of its own.
 */
export interface ProviderDefinition<T> {
  readonly live?: BuildFunction<T> | ProfileImplementation<T>;
  readonly mirror?: BuildFunction<T> | ProfileImplementation<T>;
  readonly record?: BuildFunction<T> | ProfileImplementation<T>;
  readonly test?: BuildFunction<T> | ProfileImplementation<T>;
  readonly close?: CloseFunction<T>;
}

const PROVIDER_BRAND: unique symbol = Symbol.for('mirrorguard.provider');

/** A provider, made by `defineProvider`. */
export interface Provider<T> {
  readonly [PROVIDER_BRAND]: true;
  /** The profiles it has an implementation for. */
  readonly profiles: readonly Profile[];
  implementation(profile: Profile): ProfileImplementation<T> | undefined;
}

/** Defines how one dependency is built and closed in each profile: the SessionFactory pattern. */
export function defineProvider<T>(definition: ProviderDefinition<T>): Provider<T> {
  const implementations = new Map<Profile, ProfileImplementation<T>>();
  for (const profile of PROFILES) {
    const entry = definition[profile];
    if (entry === undefined) continue;
    const implementation = typeof entry === 'function' ? { build: entry } : entry;
    if (typeof implementation.build !== 'function') {
      throw new MirrorGuardError('MG_ERR_PROVIDER_INVALID', `the ${profile} implementation of a provider has no build function`);
    }
    const close = implementation.close ?? definition.close;
    implementations.set(profile, close === undefined ? { build: implementation.build } : { build: implementation.build, close });
  }
  return Object.freeze({
    [PROVIDER_BRAND]: true as const,
    profiles: [...implementations.keys()],
    implementation: (profile: Profile) => implementations.get(profile),
  });
}

export function isProvider(value: unknown): value is Provider<unknown> {
  return typeof value === 'object' && value !== null && (value as { [PROVIDER_BRAND]?: unknown })[PROVIDER_BRAND] === true;
}
