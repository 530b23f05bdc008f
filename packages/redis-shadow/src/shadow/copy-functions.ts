/** The parts of an ioredis client the copy uses (Buffer replies: a DUMP payload is binary). */
interface BufferCaller {
  callBuffer(command: string, ...args: Array<string | Buffer>): Promise<unknown>;
}

/**
 * Copies the origin's function libraries into the shadow — FUNCTION DUMP on the origin (a read of
 * the libraries, executing nothing), FUNCTION RESTORE … REPLACE on the shadow — so that FCALL and
 * FCALL_RO, which run only on the shadow, find there what the primary loaded. Best effort, once per
 * session: an origin user without FUNCTION DUMP, or a payload the shadow refuses, leaves the
 * shadow's libraries as they were, and FCALL answers as a server without the function would.
 */
export async function copyFunctions(origin: BufferCaller, shadow: BufferCaller): Promise<void> {
  const payload = await origin.callBuffer('FUNCTION', 'DUMP').catch(() => undefined);
  if (!Buffer.isBuffer(payload)) return;
  await shadow.callBuffer('FUNCTION', 'RESTORE', payload, 'REPLACE').catch(() => undefined);
}
