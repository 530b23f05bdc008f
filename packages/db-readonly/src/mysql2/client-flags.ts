import type { Mysql2Config } from './mysql2-shapes.ts';

const CLIENT_COMPRESS = 0x20;
const CLIENT_LOCAL_FILES = 0x80;
const CLIENT_MULTI_STATEMENTS = 0x10000;
const CLIENT_ZSTD_COMPRESSION = 0x4000000;
const CLIENT_QUERY_ATTRIBUTES = 0x8000000;
/** Client capabilities a read-only connection never announces: several statements per query, LOAD DATA LOCAL. */
export const UNSAFE_CLIENT_FLAGS: number = CLIENT_LOCAL_FILES | CLIENT_MULTI_STATEMENTS;
/**
 * Capabilities the wire check refuses in a handshake: the unsafe two, and those that would put
 * bytes other than the screened statement into a command packet (compressed frames, a query
 * attributes block before the SQL text).
 */
export const UNSAFE_HANDSHAKE_FLAGS: number = UNSAFE_CLIENT_FLAGS | CLIENT_COMPRESS | CLIENT_ZSTD_COMPRESSION | CLIENT_QUERY_ATTRIBUTES;

// CLIENT_SESSION_TRACK: the server flags every reply whose statement changed session state.
const CLIENT_SESSION_TRACK = 0x800000;

// Flags a caller may not set (the unsafe two) or clear (session tracking, which the guard relies on).
const UNSAFE_FLAG_NAMES = new Set(['MULTI_STATEMENTS', 'LOCAL_FILES', 'SESSION_TRACK', 'COMPRESS', 'CLIENT_QUERY_ATTRIBUTES']);
const UNSAFE_URI_PARAMETERS = ['multipleStatements', 'flags', 'infileStreamFactory', 'compress'];

function safeFlags(flags: unknown): string[] {
  const list = typeof flags === 'string' ? flags.split(',') : Array.isArray(flags) ? flags.map(String) : [];
  const kept = list.map((flag) => flag.trim()).filter((flag) => flag !== '' && !UNSAFE_FLAG_NAMES.has(flag.replace(/^-/, '').toUpperCase()));
  return [...kept, '-MULTI_STATEMENTS', '-LOCAL_FILES', '-COMPRESS', '-CLIENT_QUERY_ATTRIBUTES', 'SESSION_TRACK'];
}

/**
 * Connection or pool options with multiple statements, LOCAL INFILE, compression and query
 * attributes turned off, whatever the caller asked for (options, `flags`, or the query string of `uri`).
 */
export function withoutUnsafeOptions(options: unknown): Record<string, unknown> {
  const copy: Record<string, unknown> = typeof options === 'string' ? { uri: options } : { ...(options as Record<string, unknown> | undefined) };
  copy.multipleStatements = false;
  copy.compress = false;
  copy.flags = safeFlags(copy.flags);
  delete copy.infileStreamFactory;
  if (typeof copy.uri === 'string') {
    const uri = new URL(copy.uri);
    for (const name of UNSAFE_URI_PARAMETERS) uri.searchParams.delete(name);
    copy.uri = uri.toString();
  }
  return copy;
}

/**
 * Clears the unsafe capability bits of a parsed config, in case anything set them after all, asks
 * for session tracking, and turns compression off: the wire check reads uncompressed packets.
 */
export function clearUnsafeFlags(config: Mysql2Config): void {
  config.clientFlags = (config.clientFlags & ~UNSAFE_HANDSHAKE_FLAGS) | CLIENT_SESSION_TRACK;
  config.compress = false;
}

/**
 * The handshake mysql2 queues in the connection's constructor took the config's flags then: a
 * connection made with `new` from a config the guard never saw (the exported classes) has them
 * cleared here, before the server's greeting is answered.
 */
export function clearQueuedHandshakeFlags(connection: unknown): void {
  const handshake = (connection as { _command?: { constructor: { name: string }; clientFlags?: unknown } | null })._command;
  if (handshake?.constructor.name === 'ClientHandshake' && typeof handshake.clientFlags === 'number') {
    handshake.clientFlags = (handshake.clientFlags & ~UNSAFE_HANDSHAKE_FLAGS) | CLIENT_SESSION_TRACK;
  }
}
