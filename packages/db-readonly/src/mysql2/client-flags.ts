import type { Mysql2Config } from './mysql2-shapes.ts';

const CLIENT_LOCAL_FILES = 0x80;
const CLIENT_MULTI_STATEMENTS = 0x10000;
/** Client capabilities a read-only connection never announces: several statements per query, LOAD DATA LOCAL. */
export const UNSAFE_CLIENT_FLAGS: number = CLIENT_LOCAL_FILES | CLIENT_MULTI_STATEMENTS;

// CLIENT_SESSION_TRACK: the server flags every reply whose statement changed session state.
const CLIENT_SESSION_TRACK = 0x800000;

// Flags a caller may not set (the unsafe two) or clear (session tracking, which the guard relies on).
const UNSAFE_FLAG_NAMES = new Set(['MULTI_STATEMENTS', 'LOCAL_FILES', 'SESSION_TRACK']);
const UNSAFE_URI_PARAMETERS = ['multipleStatements', 'flags', 'infileStreamFactory'];

function safeFlags(flags: unknown): string[] {
  const list = typeof flags === 'string' ? flags.split(',') : Array.isArray(flags) ? flags.map(String) : [];
  const kept = list.map((flag) => flag.trim()).filter((flag) => flag !== '' && !UNSAFE_FLAG_NAMES.has(flag.replace(/^-/, '').toUpperCase()));
  return [...kept, '-MULTI_STATEMENTS', '-LOCAL_FILES', 'SESSION_TRACK'];
}

/**
 * Connection or pool options with multiple statements and LOCAL INFILE turned off, whatever the
 * caller asked for (options, `flags`, or the query string of `uri`).
 */
export function withoutUnsafeOptions(options: unknown): Record<string, unknown> {
  const copy: Record<string, unknown> = typeof options === 'string' ? { uri: options } : { ...(options as Record<string, unknown> | undefined) };
  copy.multipleStatements = false;
  copy.flags = safeFlags(copy.flags);
  delete copy.infileStreamFactory;
  if (typeof copy.uri === 'string') {
    const uri = new URL(copy.uri);
    for (const name of UNSAFE_URI_PARAMETERS) uri.searchParams.delete(name);
    copy.uri = uri.toString();
  }
  return copy;
}

/** Clears the unsafe capability bits of a parsed config, in case anything set them after all, and asks for session tracking. */
export function clearUnsafeFlags(config: Mysql2Config): void {
  config.clientFlags = (config.clientFlags & ~UNSAFE_CLIENT_FLAGS) | CLIENT_SESSION_TRACK;
}
