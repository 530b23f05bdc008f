/** The stable codes of the errors `@mirrorguard/redis-shadow` raises. */
export type ShadowErrorCode =
  /**
   * A command refused: admin, unknown, not on the allow-list, or (origin-changing) never allowed on
   * a mirror; AUTH or HELLO naming another user than the configured one; a Command handed over
   * twice, or whose toWritable was replaced after it was judged.
   */
  | 'MG_ERR_REDIS_REFUSED'
  /**
   * A command the client cannot route safely yet (it fails closed rather than touch the origin),
   * or a key a script may have written on the shadow where the mirror could not learn whether.
   */
  | 'MG_ERR_REDIS_UNSUPPORTED'
  /** The shadow is the origin's own server and database. */
  | 'MG_ERR_REDIS_SHADOW_IS_ORIGIN'
  /**
   * The shadow's ACL user can run commands that reach other servers or change a server's role or
   * configuration (MIGRATE, REPLICAOF, CONFIG SET, …), or a module's commands, also from inside a
   * script; or the shadow would not say (ACL DRYRUN refused). Checked at start-up and each time a
   * shadow connection connects. Nothing more is sent to the shadow.
   */
  | 'MG_ERR_REDIS_SHADOW_NOT_SANDBOXED'
  /** Strict guards only: the origin's user can do more than the origin's allow-list of reads; start-up fails. */
  | 'MG_ERR_REDIS_ORIGIN_NOT_CONFINED'
  /** The shadow failed (down, or refused a RESTORE); the write did not happen anywhere. */
  | 'MG_ERR_REDIS_SHADOW_FAILED';
