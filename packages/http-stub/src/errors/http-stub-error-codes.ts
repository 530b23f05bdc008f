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
  /** The pairing store did not answer within the call's wait, or failed, or cannot hold the call (no request id). Nothing was sent. */
  | 'MG_ERR_HTTP_STORE_UNAVAILABLE'
  /** Replay's recording file is missing or unreadable (replay and mirror read it at start-up). */
  | 'MG_ERR_HTTP_RECORDING_MISSING'
  /** Options that do not fit together (an unknown mode, a store missing for a mode that needs one), or a process-wide hold install() cannot take. */
  | 'MG_ERR_HTTP_STUB_OPTIONS'
  /** A call reached a replay stub after its dispose(): a closed replay stub keeps refusing. Nothing was sent. */
  | 'MG_ERR_HTTP_STUB_CLOSED'
  /** Replay: a connection carried bytes the stub cannot read as an HTTP/1 request (a method outside `http.METHODS`, a byte the parser rejects, conflicting framing). Nothing was sent. */
  | 'MG_ERR_HTTP_UNREADABLE'
  /** Replay: a worker thread the stub cannot guard was refused before it ran, or a guarded worker made an outbound call. Nothing was sent. */
  | 'MG_ERR_HTTP_WORKER';
