/**
 * The stable codes of the errors `@mirrorguard/core` throws. Match on `err.code`, never on the message.
 * Guard packages define their own codes on the same base class.
 */
export type CoreErrorCode =
  /** An environment variable or option names a value that is not accepted. */
  | 'MG_ERR_PROFILE_INVALID'
  /** `MIRROR` and `MIRROR_PROFILE` (or a journal and `createGuards`) ask for different profiles. */
  | 'MG_ERR_PROFILE_CONFLICT'
  /** Something passed as a provider is not one, or uses a reserved name. */
  | 'MG_ERR_PROVIDER_INVALID'
  /** A provider has no implementation for the chosen profile; raised at start-up, before anything is built. */
  | 'MG_ERR_PROFILE_UNSUPPORTED'
  /** A provider's build failed; the providers built before it were closed again. */
  | 'MG_ERR_PROVIDER_BUILD'
  /** One or more providers (or the journal) failed to close; every close was still attempted. */
  | 'MG_ERR_CLOSE'
  /** A journal sink cannot be opened or written. */
  | 'MG_ERR_JOURNAL_SINK'
  /** A journal file given to `mirrorguard diff` or `report` cannot be read, or a line is not an event. */
  | 'MG_ERR_JOURNAL_INVALID'
  /** An explicit request id is empty, too long or has control characters. */
  | 'MG_ERR_REQUEST_ID_INVALID'
  /** The egress lockdown refused a connection, a datagram, a child process or a worker. */
  | 'MG_ERR_EGRESS_REFUSED'
  /** A strict mirror whose egress lockdown was not installed by the preload (also the code of that start-up warning). */
  | 'MG_ERR_EGRESS_NOT_PRELOADED'
  /** An egress destination (`egress.allow`, `allowDestination`, `MIRRORGUARD_EGRESS_ALLOW`) cannot be parsed. */
  | 'MG_ERR_EGRESS_INVALID';
