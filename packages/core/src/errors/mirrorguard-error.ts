import type { CoreErrorCode } from './error-codes.ts';

// A registry-wide symbol: two installed copies of this package (or its ESM and CommonJS builds)
// brand their errors alike, so `instanceof MirrorGuardError` holds across them.
const BRAND: unique symbol = Symbol.for('mirrorguard.error');

export interface MirrorGuardErrorOptions {
  /** The error that led to this one. */
  readonly cause?: unknown;
  /** Further errors, for codes that aggregate (`MG_ERR_CLOSE`, `MG_ERR_PROVIDER_BUILD`). */
  readonly errors?: readonly unknown[];
}

/**
 * The base class of every error mirrorguard throws. Each carries a stable `code`.
 * `instanceof MirrorGuardError` works across duplicate installs; subclasses use the ordinary prototype check.
 */
export class MirrorGuardError extends Error {
  readonly code: CoreErrorCode | (string & {});
  readonly errors: readonly unknown[];

  constructor(code: CoreErrorCode | (string & {}), message: string, options: MirrorGuardErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'MirrorGuardError';
    this.code = code;
    this.errors = options.errors ?? [];
    Object.defineProperty(this, BRAND, { value: true });
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    if (this !== MirrorGuardError) return Function.prototype[Symbol.hasInstance].call(this, value);
    return typeof value === 'object' && value !== null && (value as { [BRAND]?: unknown })[BRAND] === true;
  }
}
