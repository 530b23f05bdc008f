import { Buffer } from 'node:buffer';
import { Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import { MirrorGuardError, type Journal } from '@mirrorguard/core';
import { READ_SESSION_STATE } from '../server/session-state.ts';
import { UNSAFE_HANDSHAKE_FLAGS } from './client-flags.ts';
import type { Mysql2Connection } from './mysql2-shapes.ts';

// The second layer: the bytes themselves. Every packet mysql2 writes to a guarded connection's
// stream is read here, whatever path wrote it (a command's start(), the prototype's addCommand or
// reset(), connection.write, the stream itself), and each command packet (sequence id 0) must be
// exactly what ConnectionGuard approved for the command in flight, with the values it screened:
// the SQL text as UTF-8 bytes, a statement id an approved Prepare received, a reset only through
// the guard's own reset() and changeUser(). Anything else is not written, and the connection fails.

const COM_QUIT = 0x01;
const COM_QUERY = 0x03;
const COM_PING = 0x0e;
const COM_CHANGE_USER = 0x11;
const COM_STMT_PREPARE = 0x16;
const COM_STMT_EXECUTE = 0x17;
const COM_STMT_CLOSE = 0x19;
const COM_STMT_RESET = 0x1a;
const COM_RESET_CONNECTION = 0x1f;

/** A physical packet of this payload length is continued by the next one (the protocol's 16 MB split). */
const MAX_PAYLOAD = 0xffffff;
const CLIENT_SSL = 0x800;
/** The client asked the server to end column definitions and result sets with OK packets rather than EOF packets. */
const CLIENT_DEPRECATE_EOF = 0x1000000;
/** In the status of a reply's last packet: another result set follows. */
const SERVER_MORE_RESULTS_EXISTS = 0x0008;
/** An SSL request is the first 32 bytes of a handshake response: flags, max packet, collation, filler. */
const SSL_REQUEST_LENGTH = 32;
const COMMAND_NAMES: Readonly<Record<number, string>> = {
  [COM_QUIT]: 'COM_QUIT',
  [COM_QUERY]: 'COM_QUERY',
  [COM_PING]: 'COM_PING',
  [COM_CHANGE_USER]: 'COM_CHANGE_USER',
  [COM_STMT_PREPARE]: 'COM_STMT_PREPARE',
  [COM_STMT_EXECUTE]: 'COM_STMT_EXECUTE',
  [COM_STMT_CLOSE]: 'COM_STMT_CLOSE',
  [COM_STMT_RESET]: 'COM_STMT_RESET',
  [COM_RESET_CONNECTION]: 'COM_RESET_CONNECTION',
};

/**
 * What the guard let one command send. A string: a COM_QUERY of exactly this SQL (an app query,
 * the common case, kept without allocating). Otherwise the command byte (COM_STMT_EXECUTE stands
 * for the three statement commands) and, for text, the SQL.
 */
type Approval = string | { readonly command: number; readonly sql?: string; readonly internal?: boolean; readonly readBack?: boolean };

const PING: Approval = { command: COM_PING };
const QUIT: Approval = { command: COM_QUIT };
const STATEMENT: Approval = { command: COM_STMT_EXECUTE };
const RESET: Approval = { command: COM_RESET_CONNECTION };
const CHANGE_USER: Approval = { command: COM_CHANGE_USER };
/** mysql2's command classes without SQL text the guard passes, and what each may send. */
const BY_TYPE: Readonly<Record<string, Approval>> = { Ping: PING, Quit: QUIT, Execute: STATEMENT, CloseStatement: STATEMENT };
const SESSION_RESETS: Readonly<Record<string, Approval>> = { ResetConnection: RESET, ChangeUser: CHANGE_USER };

/** Whether `buffer[start, end)` is exactly the UTF-8 encoding of `text` (as mysql2's utf8Write makes it). */
export function isUtf8Of(buffer: Buffer, start: number, end: number, text: string): boolean {
  // As many bytes as UTF-16 units: only an ASCII text can match, one byte per character, compared
  // as a Latin-1 decoding of the bytes (a native copy and a string comparison: faster than a loop
  // over the characters, and nothing is encoded).
  if (end - start === text.length) return (buffer as Latin1Slicing).latin1Slice(start, end) === text && Buffer.byteLength(text, 'utf8') === text.length;
  return Buffer.byteLength(text, 'utf8') === end - start && Buffer.from(text, 'utf8').compare(buffer, start, end) === 0;
}

interface Mysql2Internals extends Mysql2Connection {
  stream: Stream;
  _command?: object | null;
  _handshakePacket?: unknown;
  startTLS?: (...args: unknown[]) => unknown;
}

/** Node's own Latin-1 decoder on Buffer.prototype, without toString()'s argument handling. */
type Latin1Slicing = Buffer & { latin1Slice(start: number, end: number): string };

type WriteCallback = (error?: Error | null) => void;
/** `handle`: the native handle written through (none for a stream read at its _write or write). */
type Check = (chunk: unknown, encoding: BufferEncoding, handle?: object) => Buffer | undefined;

/** A libuv stream handle (TCP, pipe, TLS) as net.Socket writes to it: `req` is the write's WriteWrap. */
interface Handle {
  writeBuffer(req: object, buffer: Buffer): number;
  writev(req: object, chunks: unknown[], allBuffers: boolean): number;
}
const STRING_WRITES: ReadonlyArray<readonly [string, BufferEncoding]> = [
  ['writeUtf8String', 'utf8'],
  ['writeLatin1String', 'latin1'],
  ['writeAsciiString', 'ascii'],
  ['writeUcs2String', 'ucs2'],
];
const NOTHING = Buffer.alloc(0);
const min = (a: number, b: number): number => (a < b ? a : b);
const COMPACT_AFTER = 1024;

/**
 * The approvals the guard gave, in the order it handed the commands to mysql2, which is the order
 * mysql2 writes them (it runs its queue in order; the guard re-sends what it holds back in order).
 * The command in flight is looked up from the oldest: a command approved before it and not written
 * never will be (a Prepare mysql2 answered from its statement cache, an Execute whose Prepare
 * failed), and its approval is dropped. Kept in arrays rather than a WeakMap: an approval lives for
 * one round trip, and a WeakMap keyed by young objects costs the garbage collector more than the
 * whole check.
 */
class Approvals {
  readonly #commands: Array<object | undefined> = [];
  readonly #approvals: Array<Approval | undefined> = [];
  /** The live entries are [#head, #end); the arrays keep their length, their slots are reused. */
  #head = 0;
  #end = 0;

  add(command: object, approval: Approval): void {
    if (this.#end === this.#commands.length) {
      this.#commands.push(command);
      this.#approvals.push(approval);
    } else {
      this.#commands[this.#end] = command;
      this.#approvals[this.#end] = approval;
    }
    this.#end += 1;
  }

  /** The approval of `command`, consumed (each is good for one command packet). */
  take(command: object): Approval | undefined {
    const commands = this.#commands;
    for (let index = this.#head; index < this.#end; index += 1) {
      if (commands[index] !== command) continue;
      const approval = this.#approvals[index];
      for (let dropped = this.#head; dropped <= index; dropped += 1) {
        commands[dropped] = undefined;
        this.#approvals[dropped] = undefined;
      }
      this.#head = index + 1;
      if (this.#head === this.#end) this.#head = this.#end = 0;
      // A connection that always has commands queued never empties the list: its dead front goes.
      else if (this.#head >= COMPACT_AFTER) this.#compact();
      return approval;
    }
    return undefined;
  }

  #compact(): void {
    const live = this.#end - this.#head;
    for (const list of [this.#commands, this.#approvals] as Array<unknown[]>) {
      list.copyWithin(0, this.#head, this.#end);
      list.length = live;
    }
    this.#head = 0;
    this.#end = live;
  }
}

/**
 * The guard's own statements: a read-back it sends at once may overtake its pins still waiting in
 * its queue, so one is taken out alone. There are a handful at a time.
 */
class InternalApprovals {
  readonly #commands: object[] = [];
  readonly #approvals: Approval[] = [];

  add(command: object, approval: Approval): void {
    this.#commands.push(command);
    this.#approvals.push(approval);
  }

  take(command: object): Approval | undefined {
    const index = this.#commands.indexOf(command);
    if (index === -1) return undefined;
    this.#commands.splice(index, 1);
    return this.#approvals.splice(index, 1)[0];
  }
}

/**
 * The check each handle's writes are read by: the first one it was put under (a handle moved from
 * one socket to another keeps its check), read at every write by the handle's prototype methods.
 */
const HANDLE_CHECKS = new WeakMap<object, Check>();

const isStreamHandle = (handle: unknown): handle is Handle =>
  typeof handle === 'object' && handle !== null && typeof (handle as Handle).writeBuffer === 'function' && typeof (handle as Handle).writev === 'function';

/**
 * Where Node 24 keeps a socket's handle: net.Socket's prototype has a `_handle` accessor over an
 * internal symbol (kHandle) its own code reads and writes. Read through the symbol, the handle costs
 * a property load, not two accessor calls; undefined where `_handle` is a plain field.
 */
function handleSlot(stream: object): symbol | undefined {
  if (Object.getOwnPropertyDescriptor(stream, '_handle') !== undefined) return undefined;
  const current = (stream as { _handle?: unknown })._handle;
  // Node's slot only: its code writes through that symbol (stream_base_commons' writeGeneric), not
  // through `_handle`. A second symbol of the same description (app code can add one ahead of
  // Node's before the guard wraps the socket) would let the read gate and the accessor follow one
  // handle while Node writes through another: with more than one, the accessor is read instead.
  let slot: symbol | undefined;
  for (const symbol of Object.getOwnPropertySymbols(stream)) {
    if (symbol.description !== 'kHandle') continue;
    const descriptor = Object.getOwnPropertyDescriptor(stream, symbol);
    if (slot !== undefined || descriptor === undefined || !('value' in descriptor) || descriptor.value !== current) return undefined;
    slot = symbol;
  }
  return slot;
}

/** The handle `stream` holds now. */
function heldHandle(stream: object, slot: symbol | undefined): unknown {
  return slot === undefined ? (stream as { _handle?: unknown })._handle : (stream as Record<symbol, unknown>)[slot];
}

/**
 * Calls `adopt` with each stream handle later assigned to `stream._handle` (Node sets null on close).
 * Node 24 keeps the handle behind an accessor of net.Socket's prototype (over an internal symbol
 * its own code uses): an assignment still goes to it, after `adopt`.
 */
function followHandle(stream: object, slot: symbol | undefined, adopt: (handle: Handle) => void): void {
  let inherited: PropertyDescriptor | undefined;
  for (let proto = Object.getPrototypeOf(stream) as object | null; proto !== null && inherited === undefined; proto = Object.getPrototypeOf(proto) as object | null) {
    inherited = Object.getOwnPropertyDescriptor(proto, '_handle');
  }
  const own = Object.getOwnPropertyDescriptor(stream, '_handle');
  let value = own?.value as unknown;
  const get = inherited?.get !== undefined && own === undefined ? inherited.get : () => value;
  const set = inherited?.set !== undefined && own === undefined ? inherited.set : (next: unknown) => void (value = next);
  Object.defineProperty(stream, '_handle', {
    configurable: false,
    enumerable: own?.enumerable ?? false,
    // Node's net code reads `_handle` many times per read and write: through the slot when there is one.
    get:
      slot === undefined
        ? function handle(this: object) {
            return get.call(this);
          }
        : function handle(this: Record<symbol, unknown>) {
            return this[slot];
          },
    set(next: unknown) {
      if (next !== get.call(this) && isStreamHandle(next)) adopt(next);
      set.call(this, next);
    },
  });
}

/** The write methods of a libuv stream handle (StreamBase), all on one prototype of its chain. */
const WRITE_METHODS: readonly string[] = ['writeBuffer', 'writev', ...STRING_WRITES.map(([name]) => name)];
/** The methods the guard put on handle prototypes in Node's place. */
const CHECKED_METHODS = new WeakSet<object>();

type WriteMethod = (this: Handle, req: object, ...args: never[]) => number;

/**
 * Write methods over Node's own (`natives`, by name) that read the check of the handle they are
 * called on, if it has one; a handle without a check writes as before.
 */
function checkedMethods(natives: Readonly<Record<string, unknown>>): Map<string, WriteMethod> {
  const methods = new Map<string, WriteMethod>();
  const writeBuffer = natives.writeBuffer as Handle['writeBuffer'];
  const writev = natives.writev as Handle['writev'];
  if (typeof writeBuffer !== 'function' || typeof writev !== 'function') return methods;
  methods.set('writeBuffer', function writeBufferChecked(this: Handle, req: object, data: unknown) {
    const check = HANDLE_CHECKS.get(this);
    if (check === undefined) return writeBuffer.call(this, req, data as Buffer);
    return writeBuffer.call(this, req, check(data, BYTES, this) ?? NOTHING);
  } as WriteMethod);
  for (const [name, encoding] of STRING_WRITES) {
    const native = natives[name] as (this: Handle, req: object, text: unknown) => number;
    if (typeof native !== 'function') continue;
    methods.set(name, function writeStringChecked(this: Handle, req: object, text: unknown) {
      const check = HANDLE_CHECKS.get(this);
      if (check === undefined) return native.call(this, req, text);
      return writeBuffer.call(this, req, check(text, encoding, this) ?? NOTHING);
    } as WriteMethod);
  }
  methods.set('writev', function writevChecked(this: Handle, req: object, chunks: unknown[], allBuffers: boolean) {
    const check = HANDLE_CHECKS.get(this);
    if (check === undefined) return writev.call(this, req, chunks, allBuffers);
    // Buffers, or chunk and encoding pairs.
    const buffers: Buffer[] = [];
    const step = allBuffers ? 1 : 2;
    for (let at = 0; at < chunks.length; at += step) {
      const bytes = check(chunks[at], allBuffers ? BYTES : (chunks[at + 1] as BufferEncoding), this);
      if (bytes === undefined) return writeBuffer.call(this, req, NOTHING);
      buffers.push(bytes);
    }
    return writev.call(this, req, buffers, true);
  } as WriteMethod);
  return methods;
}

/** The object of `from`'s chain (itself first) that holds the write methods (Node's StreamBase methods). */
function ownerFrom(from: object | null): Record<string, unknown> | undefined {
  for (let owner = from as Record<string, unknown> | null; owner !== null; owner = Object.getPrototypeOf(owner) as Record<string, unknown> | null) {
    if (Object.prototype.hasOwnProperty.call(owner, 'writeBuffer')) return owner;
  }
  return undefined;
}

/** The prototype of `handle`'s chain that holds its write methods. */
const writeOwner = (handle: object): Record<string, unknown> | undefined => ownerFrom(Object.getPrototypeOf(handle) as object | null);

/**
 * Puts checked write methods on the prototype that holds Node's own (once per prototype): a handle
 * with a check is read whichever way its method is reached — its own property, or the prototype's
 * method called on it (`Object.getPrototypeOf(handle).writeBuffer.call(handle, …)`), which the
 * handle's own properties alone left unread. Where the prototype cannot be changed, the handle's
 * own properties still are (wrapHandle).
 */
function checkPrototype(owner: Record<string, unknown>): void {
  if (CHECKED_METHODS.has(owner.writeBuffer as object)) return;
  for (const [name, value] of checkedMethods(owner)) {
    const descriptor = Object.getOwnPropertyDescriptor(owner, name);
    if (descriptor?.configurable !== true) continue;
    CHECKED_METHODS.add(value);
    Object.defineProperty(owner, name, { configurable: false, writable: false, enumerable: descriptor.enumerable ?? false, value });
  }
}

// Where process.binding still reaches them (not under --permission), the prototypes of TCP and
// Pipe handles and of TLS handles are checked as this module loads: app code that takes Node's
// writeBuffer from them later gets the checked one. (Code that ran before mirrorguard was loaded is
// out of reach; elsewhere each is checked at the first handle.)
for (const [module, name] of [['tcp_wrap', 'TCP'], ['tls_wrap', 'TLSWrap']] as const) {
  try {
    const constructor = (process as unknown as { binding(name: string): Record<string, { prototype?: object } | undefined> }).binding(module)[name];
    const owner = constructor?.prototype === undefined ? undefined : ownerFrom(constructor.prototype);
    if (owner !== undefined) checkPrototype(owner);
  } catch {
    // Checked at the first handle instead.
  }
}

/**
 * Reads every write of a socket handle before it is made: the bytes judged are the bytes written
 * (a string is encoded once, here). A refused write becomes a write of nothing, which completes as
 * any write does: the stream goes on, and the guard fails the connection. False when the handle is
 * read by another check already (another connection's, which would judge these writes by its state).
 */
function wrapHandle(handle: Handle, check: Check): boolean {
  const current = HANDLE_CHECKS.get(handle);
  if (current !== undefined) return current === check;
  const owner = writeOwner(handle);
  if (owner !== undefined) checkPrototype(owner);
  HANDLE_CHECKS.set(handle, check);
  // The handle's own properties too (what Node's net code calls), so that none can be put there:
  // the prototype's checked methods, or checked ones over whatever the handle has.
  const own = checkedMethods(owner !== undefined && CHECKED_METHODS.has(owner.writeBuffer as object) ? {} : (handle as unknown as Record<string, unknown>));
  for (const name of WRITE_METHODS) {
    const value = owner?.[name];
    const method = typeof value === 'function' && CHECKED_METHODS.has(value) ? value : own.get(name);
    if (method !== undefined) Object.defineProperty(handle, name, { configurable: false, writable: false, value: method });
  }
  return true;
}
/** How a Writable names a chunk that is already bytes. */
const BYTES = 'buffer' as BufferEncoding;
interface Stream {
  _write?: (chunk: unknown, encoding: BufferEncoding, callback: WriteCallback) => void;
  _writev?: ((chunks: Array<{ chunk: unknown; encoding: BufferEncoding }>, callback: WriteCallback) => void) | null;
  write?: (chunk: unknown, encoding?: unknown, callback?: unknown) => boolean;
}


/**
 * The server's answer to one of the guard's own statements (text-protocol COM_QUERY), read from the
 * bytes that arrived on the socket mysql2 reads: an OK, an ERR (its code and message), or a result
 * set (each value the text the server sent, null for NULL). Unreadable: bytes that are not such an
 * answer (a reply packet out of sequence, LOCAL INFILE, several result sets, a 16 MB packet).
 */
export type OwnReply =
  | { readonly kind: 'ok' }
  | { readonly kind: 'error'; readonly errno: number; readonly message: string }
  | { readonly kind: 'rows'; readonly rows: ReadonlyArray<ReadonlyArray<string | null>> }
  | { readonly kind: 'unreadable'; readonly reason: string };

/** Where a ReplyReader is in a text-protocol reply. */
const Phase = {
  /** No statement of the guard's in flight on this stream: bytes pass unread. */
  Idle: 0,
  /** The first packet: OK, ERR, or a column count. */
  First: 1,
  Columns: 2,
  /** The EOF after the column definitions (unless CLIENT_DEPRECATE_EOF). */
  ColumnsEnd: 3,
  Rows: 4,
} as const;
type Phase = (typeof Phase)[keyof typeof Phase];

/** The index after a length-encoded integer at `at`, and its value; undefined past `end` or for 0xfb/0xff. */
function lengthEncoded(buffer: Buffer, at: number, end: number): { value: number; next: number } | undefined {
  if (at >= end) return undefined;
  const first = buffer[at]!;
  if (first < 0xfb) return { value: first, next: at + 1 };
  if (first === 0xfc) return at + 3 <= end ? { value: buffer.readUInt16LE(at + 1), next: at + 3 } : undefined;
  if (first === 0xfd) return at + 4 <= end ? { value: buffer.readUIntLE(at + 1, 3), next: at + 4 } : undefined;
  if (first === 0xfe) return at + 9 <= end ? { value: Number(buffer.readBigUInt64LE(at + 1)), next: at + 9 } : undefined;
  return undefined;
}

/** The status flags of an OK packet (header 0x00, or 0xfe ending a result set under CLIENT_DEPRECATE_EOF). */
function okStatus(payload: Buffer): number | undefined {
  const affected = lengthEncoded(payload, 1, payload.length);
  const insertId = affected && lengthEncoded(payload, affected.next, payload.length);
  return insertId !== undefined && insertId.next + 2 <= payload.length ? payload.readUInt16LE(insertId.next) : undefined;
}

/**
 * Reads the reply to the guard's statement in flight on one stream, from the bytes the socket
 * received, as they arrive (before mysql2 sees them). mysql2 writes a command only once the reply
 * to the one before it has been read, so the reply begins with the first packet that arrives after
 * the statement's packet was written; it must be sequence 1, 2, … on.
 */
export class ReplyReader {
  command: object | undefined;
  phase: Phase = Phase.Idle;
  #deprecateEof = false;
  #sequence = 1;
  readonly #header = Buffer.alloc(4);
  #headerFill = 0;
  /** The packet being received when it spans reads; -1 while a header is next. */
  #left = -1;
  #payload: Buffer | undefined;
  #payloadFill = 0;
  #columns = 0;
  #columnsLeft = 0;
  #rows: Array<Array<string | null>> = [];
  readonly #done: (command: object, reply: OwnReply) => void;

  constructor(done: (command: object, reply: OwnReply) => void) {
    this.#done = done;
  }

  /** The guard's statement `command` was written: what arrives next is its reply. */
  begin(command: object, deprecateEof: boolean): void {
    if (this.command !== undefined) this.#finish({ kind: 'unreadable', reason: 'another statement was written before its reply was complete' });
    this.command = command;
    this.phase = Phase.First;
    this.#deprecateEof = deprecateEof;
    this.#sequence = 1;
    this.#headerFill = 0;
    this.#left = -1;
    this.#payload = undefined;
    this.#rows = [];
  }

  /** Bytes the socket received. */
  read(bytes: Buffer): void {
    let at = 0;
    const end = bytes.length;
    while (at < end && this.phase !== Phase.Idle) {
      if (this.#left === -1) {
        const take = min(4 - this.#headerFill, end - at);
        bytes.copy(this.#header, this.#headerFill, at, at + take);
        this.#headerFill += take;
        at += take;
        if (this.#headerFill < 4) return;
        this.#headerFill = 0;
        const length = this.#header.readUIntLE(0, 3);
        const sequence = this.#header[3]!;
        if (sequence !== this.#sequence) return this.#finish({ kind: 'unreadable', reason: `a reply packet out of sequence (${sequence}, ${this.#sequence} expected)` });
        this.#sequence = (this.#sequence + 1) & 0xff;
        if (length === MAX_PAYLOAD) return this.#finish({ kind: 'unreadable', reason: 'a 16 MB reply packet' });
        // A whole packet in this read: read in place.
        if (end - at >= length) {
          const payload = bytes.subarray(at, at + length);
          at += length;
          this.#packet(payload);
          continue;
        }
        this.#payload = Buffer.allocUnsafe(length);
        this.#payloadFill = 0;
        this.#left = length;
      }
      const take = min(this.#left, end - at);
      bytes.copy(this.#payload!, this.#payloadFill, at, at + take);
      this.#payloadFill += take;
      this.#left -= take;
      at += take;
      if (this.#left === 0) {
        this.#left = -1;
        const payload = this.#payload!;
        this.#payload = undefined;
        this.#packet(payload);
      }
    }
  }

  #packet(payload: Buffer): void {
    const marker = payload.length > 0 ? payload[0] : undefined;
    switch (this.phase) {
      case Phase.First: {
        if (marker === 0x00) return this.#end(okStatus(payload), { kind: 'ok' });
        if (marker === 0xff) return this.#error(payload);
        const count = marker === 0xfb ? undefined : lengthEncoded(payload, 0, payload.length);
        if (count === undefined || count.next !== payload.length || count.value === 0) return this.#finish({ kind: 'unreadable', reason: 'a reply that is no OK, error or result set (LOCAL INFILE, say)' });
        this.#columns = this.#columnsLeft = count.value;
        this.phase = Phase.Columns;
        return;
      }
      case Phase.Columns:
        if (marker === 0xff) return this.#error(payload);
        this.#columnsLeft -= 1;
        if (this.#columnsLeft === 0) this.phase = this.#deprecateEof ? Phase.Rows : Phase.ColumnsEnd;
        return;
      case Phase.ColumnsEnd:
        if (marker === 0xfe && payload.length < 9) {
          this.phase = Phase.Rows;
          return;
        }
        return this.#finish({ kind: 'unreadable', reason: 'no EOF after the column definitions' });
      case Phase.Rows: {
        if (marker === 0xff) return this.#error(payload);
        // The end of the rows (a row starting 0xfe holds a value of 16 MB or more).
        if (marker === 0xfe) {
          const status = this.#deprecateEof ? okStatus(payload) : payload.length >= 5 ? payload.readUInt16LE(3) : undefined;
          return this.#end(status, { kind: 'rows', rows: this.#rows });
        }
        const row: Array<string | null> = [];
        let at = 0;
        for (let column = 0; column < this.#columns; column += 1) {
          if (payload[at] === 0xfb) {
            row.push(null);
            at += 1;
            continue;
          }
          const length = lengthEncoded(payload, at, payload.length);
          if (length === undefined || length.next + length.value > payload.length) return this.#finish({ kind: 'unreadable', reason: 'a row shorter than its values' });
          row.push(payload.toString('utf8', length.next, length.next + length.value));
          at = length.next + length.value;
        }
        if (at !== payload.length) return this.#finish({ kind: 'unreadable', reason: 'a row longer than its values' });
        this.#rows.push(row);
        return;
      }
    }
  }

  #error(payload: Buffer): void {
    if (payload.length < 3) return this.#finish({ kind: 'unreadable', reason: 'an error packet too short for its code' });
    // After the code, MySQL 4.1 and later put '#' and a five-character SQLSTATE before the message.
    const from = payload[3] === 0x23 ? 9 : 3;
    this.#finish({ kind: 'error', errno: payload.readUInt16LE(1), message: payload.toString('utf8', min(from, payload.length), payload.length) });
  }

  /** The last packet of a reply: one result only (no more results flagged). */
  #end(status: number | undefined, reply: OwnReply): void {
    if (status === undefined) return this.#finish({ kind: 'unreadable', reason: 'a closing packet too short for its status' });
    if ((status & SERVER_MORE_RESULTS_EXISTS) !== 0) return this.#finish({ kind: 'unreadable', reason: 'more than one result' });
    this.#finish(reply);
  }

  #finish(reply: OwnReply): void {
    const command = this.command;
    this.command = undefined;
    this.phase = Phase.Idle;
    this.#payload = undefined;
    this.#rows = [];
    if (command !== undefined) this.#done(command, reply);
  }
}

/** Handles whose reads are counted already (one wrapper per handle, whichever socket holds it). */
const COUNTED_HANDLES = new WeakSet<object>();

/** The onread accessor of a libuv stream handle (StreamBase): where Node hands it what the socket received. */
function onreadAccessor(handle: object): PropertyDescriptor | undefined {
  for (let proto = Object.getPrototypeOf(handle) as object | null; proto !== null; proto = Object.getPrototypeOf(proto) as object | null) {
    const descriptor = Object.getOwnPropertyDescriptor(proto, 'onread');
    if (descriptor !== undefined) return typeof descriptor.get === 'function' && typeof descriptor.set === 'function' ? descriptor : undefined;
  }
  return undefined;
}

/** What a logical packet (one or more physical packets) is judged by. */
const Rule = {
  /** Before 'connect': the handshake response, SSL request, auth switch replies; their flags are read. */
  Handshake: 0,
  /** The auth exchange of an approved COM_CHANGE_USER. */
  Auth: 1,
  /** COM_QUERY / COM_STMT_PREPARE: byte for byte the approved text. */
  Text: 2,
  /** COM_PING / COM_QUIT / COM_RESET_CONNECTION: the command byte alone. */
  Single: 3,
  /** COM_STMT_EXECUTE / CLOSE / RESET: a statement id an approved Prepare received. */
  Statement: 4,
  /** COM_CHANGE_USER: the command byte, then the account's credentials. */
  ChangeUser: 5,
} as const;
type Rule = (typeof Rule)[keyof typeof Rule];

/** The packets of one stream, however the bytes are cut into writes. */
class Framing {
  readonly header = Buffer.alloc(4);
  headerFill = 0;
  /** Payload bytes left in the physical packet; -1 while a header is next. */
  left = -1;
  /** The last physical packet had the maximum length: the next one continues its logical packet. */
  continues = false;
  /** Past a TLS upgrade this stream carries ciphertext; the TLS socket above it is checked instead. */
  retired = false;
  /** The handle the stream held at the upgrade: the one whose writes are ciphertext. */
  cipherHandle: unknown;
  /** A net.Socket without a handle when wrapped: refused (see #wrap). */
  handleless = false;
  rule: Rule = Rule.Handshake;
  approval: Approval | undefined;
  /** Text: the exact logical length; other rules: the length declared so far. */
  total = 0;
  declared = 0;
  seen = 0;
  /** The expected bytes of a Text packet split across writes or physical packets, made when first needed. */
  expected: Buffer | undefined;
  readonly head = Buffer.alloc(10);
  headFill = 0;
  headNeed = 0;
  /** What this stream receives, read while one of the guard's own statements is in flight on it. */
  reader: ReplyReader | undefined;
  /** Counts what `handle` reads as received by this stream (a handle moved into its place later). */
  countReads: ((handle: object) => void) | undefined;
}

export interface WireCheckOptions {
  readonly journal: Journal;
  /** Fails the connection closed (ConnectionGuard's failure path). */
  readonly refuse: (error: MirrorGuardError) => void;
}

/**
 * Judges every packet written to one guarded connection. ConnectionGuard approves each command as
 * it hands it to mysql2 (approveStatement, approveCommand, approveInternal, allowSessionReset) and
 * tells it when a fresh session is confirmed read-only (confirmSession).
 */
export class WireCheck {
  readonly #connection: Mysql2Internals;
  readonly #options: WireCheckOptions;
  readonly #approvals = new Approvals();
  readonly #internal = new InternalApprovals();
  /** The guard's own statements whose command packet was written: only their replies came from the server. */
  readonly #sentInternal = new WeakSet<object>();
  /** The replies to the guard's own statements, as read from the bytes that arrived. */
  readonly #replies = new WeakMap<object, OwnReply>();
  /** Whether the handshake asked for CLIENT_DEPRECATE_EOF (mysql2 does not). */
  #deprecateEof = false;
  /** Commands the guard's reset() or changeUser() queued: only these may reset the session. */
  readonly #sessionResets = new WeakSet<object>();
  readonly #framings = new WeakMap<object, Framing>();
  /** Statement ids the server gave approved Prepares on this connection, until closed. */
  readonly #statements = new Set<number>();
  /** The highest id ever given: the server numbers statements in order, so a close of any id up to it names one that was given. */
  #highestStatement = 0;
  /** An approved Prepare written: mysql2 sets its `id` from the server's reply, read before the next packet. */
  #prepared: { readonly id?: unknown } | undefined;
  #connected = false;
  /** Handshake packets whose capability flags are still to be read (a second one after an SSL request). */
  #flagsToRead = 1;
  /**
   * Until the guard has confirmed a fresh session read-only (after connect, a reset, a change of
   * user), only the guard's own statements reach the server (and closes, pings, quit).
   */
  #unpinned = true;
  #readBackSinceReset = false;
  /** The COM_CHANGE_USER in flight whose auth exchange may follow it. */
  #authenticating: object | undefined;
  #refused: MirrorGuardError | undefined;
  #stream: Stream;
  /**
   * The connection was given its transport (mysql2's `stream` option): the guard reads the bytes
   * written to that stream, not the socket they reach the server by, which the app holds too (a
   * Duplex over a socket of its own, a socket connected after the guard looked at it). Nothing is
   * written: not even the handshake, so the app's own socket never has a session.
   */
  readonly #suppliedStream: boolean;

  private constructor(connection: Mysql2Internals, options: WireCheckOptions) {
    this.#connection = connection;
    this.#options = options;
    this.#connected = connection._handshakePacket !== undefined && connection._handshakePacket !== null;
    const supplied = (connection.config as { stream?: unknown } | undefined)?.stream;
    this.#suppliedStream = supplied !== undefined && supplied !== null && supplied !== false;
    this.#stream = this.#wrap(connection.stream);
    // mysql2's startTLS puts a TLS socket in the stream's place. (Not an accessor on `stream`:
    // redefining a field of the connection turns it into a dictionary-mode object, and mysql2 reads
    // its fields for every packet. A stream app code puts there is adopted before the next approval.)
    const startTLS = connection.startTLS;
    if (typeof startTLS === 'function') {
      connection.startTLS = (...args: unknown[]) => {
        const result = startTLS.apply(connection, args);
        this.#adopt(connection.stream);
        return result;
      };
    }
    connection.once('connect', () => {
      this.#connected = true;
    });
  }

  /** Installs the check on `connection`'s stream; call before its handshake is answered. */
  static install(connection: Mysql2Connection, options: WireCheckOptions): WireCheck {
    return new WireCheck(connection as Mysql2Internals, options);
  }

  /** A Query (COM_QUERY) or Prepare (COM_STMT_PREPARE) the guard screened, with the text it screened. */
  approveStatement(command: object, query: boolean, sql: string): void {
    if (this.#connection.stream !== this.#stream) this.#adopt(this.#connection.stream);
    this.#approvals.add(command, query ? sql : { command: COM_STMT_PREPARE, sql });
  }

  /** One of the guard's own statements (`sql` as the guard wrote it, not as the command carries it). */
  approveInternal(command: object, sql: string): void {
    if (this.#connection.stream !== this.#stream) this.#adopt(this.#connection.stream);
    this.#internal.add(command, { command: COM_QUERY, sql, internal: true, readBack: sql === READ_SESSION_STATE });
  }

  /** Whether the packet of one of the guard's own statements was written to the socket (approved and passed). */
  wasSent(command: object): boolean {
    return this.#sentInternal.has(command);
  }

  /**
   * The server's reply to one of the guard's own statements, read from the bytes that arrived on
   * the socket after its packet was written; undefined until the reply is complete (or when it was
   * never written).
   */
  replyTo(command: object): OwnReply | undefined {
    return this.#replies.get(command);
  }

  /** A command without SQL the guard passed, by its class name; a session reset only if allowSessionReset named it. */
  approveCommand(command: object, type: string): void {
    if (this.#connection.stream !== this.#stream) this.#adopt(this.#connection.stream);
    const approval = BY_TYPE[type] ?? (this.#sessionResets.has(command) ? SESSION_RESETS[type] : undefined);
    if (approval !== undefined) this.#approvals.add(command, approval);
  }

  /** A command the guard's reset() or changeUser() queued, with the re-pin right behind it. */
  allowSessionReset(command: object): void {
    this.#sessionResets.add(command);
  }

  /** The guard judged a read-back of the fresh session read-only: the app's commands may follow. */
  confirmSession(): void {
    if (this.#readBackSinceReset) this.#unpinned = false;
  }

  /** The stream now in the connection's place: read too; the one under a TLS socket carries only ciphertext. */
  #adopt(next: Stream): void {
    if (next === this.#stream) return;
    const framing = this.#framings.get(this.#stream);
    if (framing !== undefined && next instanceof TLSSocket && (next as unknown as { _parent?: unknown })._parent === this.#stream) {
      framing.retired = true;
      framing.cipherHandle = (this.#stream as { _handle?: unknown })._handle;
    }
    this.#stream = this.#wrap(next);
  }

  #wrap(stream: Stream): Stream {
    if (typeof stream !== 'object' || stream === null || this.#framings.has(stream)) return stream;
    const framing = new Framing();
    this.#framings.set(stream, framing);
    framing.reader = this.#watchReads(stream, framing);
    const check: Check = (chunk, encoding, handle) => {
      const bytes = Buffer.isBuffer(chunk)
        ? chunk
        : typeof chunk === 'string'
          ? Buffer.from(chunk, encoding)
          : ArrayBuffer.isView(chunk)
            ? Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)
            : undefined;
      if (this.#suppliedStream || framing.handleless) {
        this.#refuse(
          '(write)',
          this.#suppliedStream
            ? "a transport the app supplied (mysql2's stream option): the guard cannot read what reaches the server through it"
            : 'a socket with no handle when the guard wrapped it: the one it writes through later is not read',
        );
        return undefined;
      }
      // Under TLS: the ciphertext of the handle the socket held at the upgrade, and nothing else
      // (a handle put in its place later would write whatever it is given, unread).
      if (framing.retired) {
        if (handle === undefined || handle === framing.cipherHandle) return bytes;
        this.#refuse('(write)', 'a handle put under the TCP socket of a TLS connection after the upgrade');
        return undefined;
      }
      if (this.#refused !== undefined) return undefined;
      if (bytes !== undefined && this.#inspect(framing, bytes)) return bytes;
      if (bytes === undefined) this.#refuse('(write)', 'a write that is not bytes');
      return undefined;
    };
    // A socket's native handle is where every write of it ends up, whatever JavaScript path led
    // there (write, end(chunk), cork, the prototypes' write or _write called on it, another Socket
    // made on the same handle). A stream without one is read at its _write, or its write.
    const slot = handleSlot(stream);
    const handle = heldHandle(stream, slot) as Handle | null | undefined;
    if (isStreamHandle(handle)) {
      if (!wrapHandle(handle, check)) this.#takeOver(handle);
      // A handle put in the socket's place later is read too: @mswjs/interceptors (the HTTP stub's
      // node:http interception) connects a socket of its own and moves that socket's handle into
      // the one mysql2 holds, which then reads and writes through it.
      followHandle(stream, slot, (next) => {
        if (!wrapHandle(next, check)) this.#takeOver(next);
        framing.countReads?.(next);
      });
    } else if (typeof stream._write === 'function') {
      // A net.Socket writes through its handle, read from Node's slot at each write: one it has not
      // yet (hidden while the guard looked, or connected later) would be neither wrapped nor
      // followed, and a second socket on it would write unread. Nothing is written through it.
      if (stream instanceof Socket) framing.handleless = true;
      const write = stream._write;
      Object.defineProperty(stream, '_write', {
        configurable: false,
        writable: false,
        value: function checkedWrite(this: Stream, chunk: unknown, encoding: BufferEncoding, callback: WriteCallback) {
          const bytes = check(chunk, encoding);
          // A refused write is dropped, not failed: the guard fails the connection and ends the stream.
          if (bytes === undefined) return callback();
          return write.call(this, bytes, BYTES, callback);
        },
      });
      const writev = stream._writev;
      if (typeof writev === 'function') {
        Object.defineProperty(stream, '_writev', {
          configurable: false,
          writable: false,
          value: function checkedWritev(this: Stream, chunks: Array<{ chunk: unknown; encoding: BufferEncoding }>, callback: WriteCallback) {
            const checked: Array<{ chunk: Buffer; encoding: BufferEncoding }> & { allBuffers?: boolean } = [];
            for (const { chunk, encoding } of chunks) {
              const bytes = check(chunk, encoding);
              if (bytes === undefined) return callback();
              checked.push({ chunk: bytes, encoding: BYTES });
            }
            checked.allBuffers = true;
            return writev.call(this, checked, callback);
          },
        });
      }
    } else if (typeof stream.write === 'function') {
      const write = stream.write;
      Object.defineProperty(stream, 'write', {
        configurable: false,
        writable: false,
        value: function checkedWrite(this: Stream, chunk: unknown, encoding?: unknown, callback?: unknown) {
          const bytes = check(chunk, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8');
          if (bytes === undefined) return true;
          return write.call(this, bytes, typeof encoding === 'function' ? encoding : callback);
        },
      });
    }
    return stream;
  }

  /**
   * Reads what `stream` receives, where Node hands it over: its push(), called by the handle's
   * onread with the bytes the socket read (for a TLS socket, the plaintext). On a stream with a
   * handle, bytes pushed from anywhere else (push() or unshift() called by app code) did not come
   * from the server: they are not passed on, and the connection fails. ('data' emitted by app code
   * reaches mysql2 and not this reader: a reply to a guard statement made of it has no reply read
   * here, and fails the connection.)
   */
  #watchReads(stream: Stream, framing: Framing): ReplyReader {
    const reader = new ReplyReader((command, reply) => this.#replies.set(command, reply));
    const check = this;
    const readable = stream as Stream & { push?: (chunk: unknown, encoding?: unknown) => boolean; unshift?: (chunk: unknown, encoding?: unknown) => unknown; };
    const push = readable.push;
    if (typeof push !== 'function') return reader;
    let reading = 0;
    /** The ArrayBuffer of the read in progress, until its one Buffer is pushed. */
    let delivered: unknown;
    /** Whether reads are counted on a handle at all (a stream without one is not gated). */
    let gated = false;
    const slot = handleSlot(stream);
    // Node's own onread (onStreamRead) marks what it pushes as received; one set later (Node sets
    // a no-op when the socket is destroyed, app code may set its own) is not counted as reading.
    const countReads = (handle: object): void => {
      const accessor = onreadAccessor(handle);
      if (accessor === undefined || COUNTED_HANDLES.has(handle)) return;
      COUNTED_HANDLES.add(handle);
      gated = true;
      const set = accessor.set!;
      const get = accessor.get!;
      const counted = (onread: unknown): unknown =>
        typeof onread !== 'function'
          ? onread
          : function countedOnread(this: unknown, arrayBuffer: unknown): unknown {
              // Node's onStreamRead takes the read's buffer alone (its length comes by another way),
              // and pushes one Buffer over it. Counted only while the socket holds this handle (one
              // moved in and taken back again reads for another socket).
              if (heldHandle(stream, slot) !== handle) return (onread as (value: unknown) => unknown).call(this, arrayBuffer);
              const outer = delivered;
              reading += 1;
              delivered = arrayBuffer;
              try {
                return (onread as (value: unknown) => unknown).call(this, arrayBuffer);
              } finally {
                reading -= 1;
                delivered = outer;
              }
            };
      set.call(handle, counted(get.call(handle)));
      Object.defineProperty(handle, 'onread', {
        configurable: false,
        enumerable: accessor.enumerable ?? false,
        get() {
          return get.call(this);
        },
        set(onread: unknown) {
          set.call(this, onread);
        },
      });
    };
    const handle = (stream as { _handle?: unknown })._handle;
    if (typeof handle === 'object' && handle !== null) countReads(handle);
    framing.countReads = countReads;
    /**
     * Pushed by Node for the read in progress: the one Buffer over that read's ArrayBuffer (a push
     * from a 'data' listener, which runs inside the read, is another Buffer, or a second one).
     */
    const fromServer = (chunk: unknown): boolean => {
      if (!gated || chunk === null || chunk === undefined) return true;
      if (reading === 0 || delivered === undefined || !Buffer.isBuffer(chunk) || chunk.buffer !== delivered) return false;
      delivered = undefined;
      return true;
    };
    Object.defineProperty(stream, 'push', {
      configurable: false,
      writable: false,
      value: function checkedPush(this: unknown, chunk: unknown, encoding?: unknown): boolean {
        if (!fromServer(chunk)) {
          check.#refuse('(read)', 'bytes handed to the socket that did not arrive from the server');
          return false;
        }
        if (reader.command !== undefined && !framing.retired && Buffer.isBuffer(chunk)) reader.read(chunk);
        return push.call(this, chunk, encoding);
      },
    });
    const unshift = readable.unshift;
    if (typeof unshift === 'function') {
      Object.defineProperty(stream, 'unshift', {
        configurable: false,
        writable: false,
        value: function checkedUnshift(this: unknown, chunk: unknown, encoding?: unknown): unknown {
          if (!gated || chunk === null || chunk === undefined) return unshift.call(this, chunk, encoding);
          check.#refuse('(read)', 'bytes put back into the socket (unshift): mysql2 never does');
          return undefined;
        },
      });
    }
    return reader;
  }

  /** Follows the packets in `bytes`; false (and the connection refused) at the first that is not approved. */
  #inspect(framing: Framing, bytes: Buffer): boolean {
    let at = 0;
    const end = bytes.length;
    while (at < end) {
      if (framing.left === -1) {
        // A whole header in this write: read in place.
        if (framing.headerFill === 0 && end - at >= 4) {
          const length = bytes[at]! | (bytes[at + 1]! << 8) | (bytes[at + 2]! << 16);
          if (!this.#startPacket(framing, length, bytes[at + 3]!)) return false;
          at += 4;
          framing.left = length;
          if (length === 0 && !this.#endPacket(framing)) return false;
          continue;
        }
        const take = min(4 - framing.headerFill, end - at);
        bytes.copy(framing.header, framing.headerFill, at, at + take);
        framing.headerFill += take;
        at += take;
        if (framing.headerFill < 4) return true;
        framing.headerFill = 0;
        const length = framing.header.readUIntLE(0, 3);
        if (!this.#startPacket(framing, length, framing.header[3]!)) return false;
        framing.left = length;
        if (length === 0 && !this.#endPacket(framing)) return false;
        continue;
      }
      const take = min(framing.left, end - at);
      if (!this.#payload(framing, bytes, at, at + take)) return false;
      at += take;
      framing.left -= take;
      if (framing.left === 0 && !this.#endPacket(framing)) return false;
    }
    return true;
  }

  /** A physical packet's header: a new logical packet, or the continuation of a 16 MB one. */
  #startPacket(framing: Framing, length: number, sequence: number): boolean {
    if (framing.continues) {
      framing.declared += length;
      framing.continues = length === MAX_PAYLOAD;
      if (framing.rule === Rule.Text && (framing.declared > framing.total || (!framing.continues && framing.declared !== framing.total))) {
        return this.#refuseApproved(framing, 'its length is not that of the statement the guard screened');
      }
      return true;
    }
    if (this.#prepared !== undefined) this.#collectStatementId();
    framing.declared = length;
    framing.continues = length === MAX_PAYLOAD;
    framing.seen = 0;
    framing.headFill = 0;
    framing.expected = undefined;
    framing.approval = undefined;
    if (!this.#connected && this.#connection._handshakePacket) this.#connected = true;
    if (sequence !== 0) {
      const command = this.#connection._command;
      if (!this.#connected) {
        framing.rule = Rule.Handshake;
        framing.headNeed = this.#flagsToRead > 0 ? 4 : 0;
        return true;
      }
      if (this.#authenticating !== undefined && command === this.#authenticating) {
        framing.rule = Rule.Auth;
        framing.headNeed = 0;
        return true;
      }
      // LOCAL INFILE data, an auth reply outside a change of user, stray bytes.
      return this.#refuse(`(packet ${sequence} of a command)`, 'a packet that continues no command the guard approved (LOCAL INFILE data is never sent)');
    }
    const command = this.#connection._command;
    // One packet per approval (taken): a command sent twice would be sent unscreened the second time.
    const approval = typeof command === 'object' && command !== null ? (this.#approvals.take(command) ?? this.#takeInternal(command, framing)) : undefined;
    if (approval === undefined) return this.#refuse('(command packet)', 'a command the guard did not approve (sent past its screening)');
    framing.approval = approval;
    this.#authenticating = undefined;
    if (typeof approval === 'string' || approval.sql !== undefined) {
      const sql = typeof approval === 'string' ? approval : approval.sql!;
      if (this.#unpinned && (typeof approval === 'string' || !approval.internal)) {
        return this.#refuseApproved(framing, 'the session is not confirmed read-only yet: only the guard\'s own statements may run');
      }
      framing.rule = Rule.Text;
      // A packet as long as an ASCII text needs no count: the comparison refuses any other text.
      framing.total = length !== MAX_PAYLOAD && length - 1 === sql.length ? length : 1 + Buffer.byteLength(sql, 'utf8');
      framing.headNeed = 0;
      if (length === MAX_PAYLOAD ? framing.total < MAX_PAYLOAD : length !== framing.total) {
        return this.#refuseApproved(framing, 'its length is not that of the statement the guard screened');
      }
      return true;
    }
    switch (approval.command) {
      case COM_STMT_EXECUTE:
        framing.rule = Rule.Statement;
        framing.headNeed = 5;
        return true;
      case COM_CHANGE_USER:
        framing.rule = Rule.ChangeUser;
        framing.headNeed = 1;
        return true;
      default:
        framing.rule = Rule.Single;
        framing.headNeed = 1;
        return length === 1 || this.#refuseApproved(framing, 'a one-byte command with more bytes');
    }
  }

  #payload(framing: Framing, bytes: Buffer, start: number, end: number): boolean {
    if (framing.rule === Rule.Text) {
      const approval = framing.approval!;
      const command = typeof approval === 'string' ? COM_QUERY : approval.command;
      const sql = typeof approval === 'string' ? approval : approval.sql!;
      // The whole statement in one piece, as mysql2 writes it below 16 MB: compared without a copy.
      if (framing.seen === 0 && end - start === framing.total) {
        framing.seen = framing.total;
        if (bytes[start] === command && isUtf8Of(bytes, start + 1, end, sql)) return true;
        return this.#refuseApproved(framing, 'the bytes are not the statement the guard screened (changed after screening, another character set)');
      }
      framing.expected ??= Buffer.concat([Buffer.of(command), Buffer.from(sql, 'utf8')]);
      const matches = framing.expected.compare(bytes, start, end, framing.seen, framing.seen + (end - start)) === 0;
      framing.seen += end - start;
      return matches || this.#refuseApproved(framing, 'the bytes are not the statement the guard screened (changed after screening, another character set)');
    }
    framing.seen += end - start;
    // A head judged may ask for more of it (an execution's flags after its statement id).
    while (framing.headFill < framing.headNeed && start < end) {
      // At most ten bytes: copied by hand, cheaper than Buffer#copy's argument handling.
      const take = min(framing.headNeed - framing.headFill, end - start);
      for (let index = 0; index < take; index += 1) framing.head[framing.headFill + index] = bytes[start + index]!;
      framing.headFill += take;
      start += take;
      if (framing.headFill === framing.headNeed && !this.#judgeHead(framing)) return false;
    }
    return true;
  }

  /** The first bytes of a packet judged by its rule. */
  #judgeHead(framing: Framing): boolean {
    const head = framing.head;
    switch (framing.rule) {
      case Rule.Handshake: {
        const flags = head.readUInt32LE(0);
        this.#flagsToRead -= 1;
        this.#deprecateEof = (flags & CLIENT_DEPRECATE_EOF) !== 0;
        if ((flags & UNSAFE_HANDSHAKE_FLAGS) !== 0) {
          return this.#refuse('(handshake)', `the handshake asks for capabilities a guarded connection never uses (flags 0x${(flags & UNSAFE_HANDSHAKE_FLAGS).toString(16)}: multiple statements, LOCAL INFILE, compression, query attributes)`);
        }
        // An SSL request: the handshake response follows it, over TLS.
        if ((flags & CLIENT_SSL) !== 0 && framing.declared === SSL_REQUEST_LENGTH) this.#flagsToRead += 1;
        return true;
      }
      case Rule.Single:
        return head[0] === (framing.approval as { command: number }).command || this.#refuseApproved(framing, 'another command than the one the guard approved');
      case Rule.ChangeUser:
        return head[0] === COM_CHANGE_USER || this.#refuseApproved(framing, 'another command than the one the guard approved');
      case Rule.Statement: {
        const command = head[0]!;
        if (command !== COM_STMT_EXECUTE && command !== COM_STMT_CLOSE && command !== COM_STMT_RESET) return this.#refuseApproved(framing, 'another command than the one the guard approved');
        const id = head.readUInt32LE(1);
        // mysql2 may close a statement twice (unprepare() closes it, and so does the cache it leaves).
        const given = command === COM_STMT_CLOSE ? id >= 1 && id <= this.#highestStatement : this.#statements.has(id);
        if (!given) return this.#refuseApproved(framing, 'a statement id no approved Prepare on this connection received (or one already closed)');
        if (command !== COM_STMT_EXECUTE) return (framing.declared === 5 && !framing.continues) || this.#refuseApproved(framing, 'a statement command with more bytes');
        if (this.#unpinned) return this.#refuseApproved(framing, 'the session is not confirmed read-only yet: only the guard\'s own statements may run');
        if (framing.headNeed === 5) {
          // The flags and iteration count follow: no cursor, one iteration, as mysql2 sends them.
          framing.headNeed = 10;
          return true;
        }
        return (head[5] === 0 && head.readUInt32LE(6) === 1) || this.#refuseApproved(framing, 'an execution with a cursor or several iterations');
      }
      default:
        return true;
    }
  }

  /** A logical packet complete (its last physical packet ended). */
  #endPacket(framing: Framing): boolean {
    framing.left = -1;
    if (framing.continues) return true;
    if (framing.headFill < framing.headNeed) {
      return framing.rule === Rule.Handshake ? this.#refuse('(handshake)', 'a handshake packet too short to hold its flags') : this.#refuseApproved(framing, 'a packet too short for its command');
    }
    const approval = framing.approval;
    if (approval === undefined || typeof approval === 'string') return true;
    switch (approval.command) {
      case COM_STMT_PREPARE:
        this.#prepared = (this.#connection._command ?? undefined) as { id?: unknown } | undefined;
        break;
      case COM_STMT_EXECUTE:
        if (framing.head[0] === COM_STMT_CLOSE) this.#statements.delete(framing.head.readUInt32LE(1));
        break;
      case COM_QUERY:
        if (approval.readBack && this.#unpinned) this.#readBackSinceReset = true;
        break;
      case COM_CHANGE_USER:
      case COM_RESET_CONNECTION:
        // Both reset the session: read-only again only once the guard has read it back.
        if (approval.command === COM_CHANGE_USER) this.#authenticating = this.#connection._command ?? undefined;
        this.#unpinned = true;
        this.#readBackSinceReset = false;
        break;
    }
    return true;
  }

  /**
   * The statement id the server gave the last approved Prepare, which mysql2 reads from its reply
   * into the command before anything else is written (an error reply leaves it 0). Any id a server
   * statement has came from a Prepare whose bytes this check passed.
   */
  #collectStatementId(): void {
    const id = this.#prepared!.id;
    if (typeof id !== 'number' || !Number.isInteger(id) || id <= 0 || id > 0xffffffff) return;
    this.#prepared = undefined;
    this.#statements.add(id);
    if (id > this.#highestStatement) this.#highestStatement = id;
  }

  /** The approval of one of the guard's own statements, which is then written (or the connection refused). */
  #takeInternal(command: object, framing: Framing): Approval | undefined {
    const approval = this.#internal.take(command);
    if (approval !== undefined) {
      this.#sentInternal.add(command);
      framing.reader?.begin(command, this.#deprecateEof);
    }
    return approval;
  }

  #refuseApproved(framing: Framing, reason: string): false {
    const approval = framing.approval;
    const command = approval === undefined ? 0 : typeof approval === 'string' ? COM_QUERY : approval.command;
    return this.#refuse(`(${COMMAND_NAMES[command] ?? 'command'} packet)`, reason);
  }

  /**
   * `handle`, read by another connection's check already, is in this connection's socket: its
   * writes would be judged by that connection's state (or, under TLS, passed as ciphertext). Every
   * write through it is refused from now on, failing both connections.
   */
  #takeOver(handle: object): void {
    const other = HANDLE_CHECKS.get(handle);
    HANDLE_CHECKS.set(handle, () => {
      // A write that is not bytes fails the other connection too (unless it is past a TLS upgrade).
      other?.(null, BYTES, handle);
      this.#refuse('(write)', "a socket handle another connection's check reads (moved from its socket)");
      return undefined;
    });
  }

  #refuse(operation: string, reason: string): false {
    if (this.#refused !== undefined) return false;
    this.#options.journal.record({ dependency: 'db', action: 'blocked', operation, reason: `not written to the server: ${reason}` });
    this.#refused = new MirrorGuardError('MG_ERR_DB_WIRE_REFUSED', `connection destroyed: a packet was refused at the wire: ${reason}`);
    this.#options.refuse(this.#refused);
    return false;
  }
}
