/** The stable codes of the errors `@mirrorguard/http-stub` raises. Match on `err.code`, never on the message. */
export type HttpStubErrorCode =
  /** Replay found no recorded exchange for an outbound request (and no fallback applies). Nothing was sent. */
  | 'MG_ERR_HTTP_NO_RECORDING'
  /** An unsafe request (not GET, HEAD or OPTIONS) in a profile that never lets one out. Nothing was sent. */
  | 'MG_ERR_HTTP_UNSAFE'
  /** A recording file cannot be read: not JSON, not HAR 1.2, or an entry this package cannot use. */
  | 'MG_ERR_HTTP_RECORDING_INVALID'
  /** A recording would be written through a symbolic link (or over something not a regular file): nothing was written. */
  | 'MG_ERR_HTTP_RECORDING_UNSAFE'
  /** Options that do not fit together (an unknown mode, a store missing for a mode that needs one). */
  | 'MG_ERR_HTTP_STUB_OPTIONS';
