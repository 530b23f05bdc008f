import type { Mysql2Connection } from './mysql2-shapes.ts';

/**
 * SERVER_SESSION_STATE_CHANGED: with session_track_state_change on, the server sets it in the status
 * of the OK or EOF packet that ends any statement that changed session state, a stored function
 * called from a SELECT included.
 */
export const SESSION_STATE_CHANGED = 0x4000;
/** SERVER_STATUS_IN_TRANS: a transaction is open after this statement. */
export const IN_TRANSACTION = 0x0001;
const OK = 0x00;
const EOF = 0xfe;
const ERR = 0xff;
const STATEMENT_COMMANDS = new Set(['Query', 'Execute']);

interface Packet {
  readonly buffer: Buffer;
  readonly offset: number;
  length(): number;
}

interface CommandState {
  next?: { readonly name?: string } | null;
}

/** The index after a length-encoded integer at `at`. */
function skipLengthEncoded(buffer: Buffer, at: number): number {
  const first = buffer[at]!;
  if (first < 0xfb) return at + 1;
  if (first === 0xfc) return at + 3;
  if (first === 0xfd) return at + 4;
  return at + 9;
}

/** The status flags of an OK packet that answers a statement, or of an EOF packet; undefined for any other packet. */
function statusOf(packet: Packet, command: CommandState | null | undefined): number | undefined {
  const { buffer, offset } = packet;
  const marker = buffer[offset];
  // mysql2's own test for an EOF: a row starting with 0xfe is at least 9 bytes longer.
  if (marker === EOF && packet.length() < 13) return buffer.readUInt16LE(offset + 3);
  // An OK packet is the first packet of a Query's or Execute's response (the result-set header).
  if (marker === OK && command?.next?.name === 'resultsetHeader') {
    const at = skipLengthEncoded(buffer, skipLengthEncoded(buffer, offset + 1));
    return at + 2 <= offset + packet.length() ? buffer.readUInt16LE(at) : undefined;
  }
  return undefined;
}

/**
 * Calls `onStatus(status, command)` with the server status of every reply that carries one (the OK
 * or EOF that ends a statement), before mysql2 handles that reply (and so before it starts the next
 * queued command): whether the statement changed the session's state, whether a transaction is open.
 */
export function watchReplyStatus(
  connection: Mysql2Connection,
  onStatus: (status: number, command: unknown) => void,
  onError: (command: unknown) => void,
): void {
  const internals = connection as Mysql2Connection & { handlePacket(packet?: Packet): void; _command?: CommandState | null };
  const handlePacket = internals.handlePacket;
  internals.handlePacket = function watchedHandlePacket(this: typeof internals, packet?: Packet) {
    if (packet !== undefined && packet !== null && this._command) {
      const status = statusOf(packet, this._command);
      if (status !== undefined) onStatus(status, this._command);
      // An error reply carries no status: a statement that failed may have changed the session
      // first (a stored function that set the isolation level, then failed).
      else if (packet.buffer[packet.offset] === ERR && STATEMENT_COMMANDS.has((this._command as object).constructor.name)) onError(this._command);
    }
    return handlePacket.call(this, packet);
  };
}
