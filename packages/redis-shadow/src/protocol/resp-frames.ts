/**
 * RESP2/RESP3 frame boundaries, without decoding values: what a pass-through needs to know where
 * one reply ends and the next begins. Also reads command frames (an array of bulk strings, as
 * ioredis writes them, or an inline command) into argv Buffers.
 */

const CR = 13;
const LF = 10;

/** Not a RESP frame: the connection cannot be read any further. */
export class RespProtocolError extends Error {
  override readonly name = 'RespProtocolError';
}

/** The index of the \r of the first \r\n at or after `from`, or -1. */
function lineEnd(buffer: Buffer, from: number): number {
  const at = buffer.indexOf(CR, from);
  if (at < 0 || at + 1 >= buffer.length) return -1;
  if (buffer[at + 1] !== LF) throw new RespProtocolError(`a bare \\r at offset ${at}`);
  return at;
}

/** A signed decimal integer in buffer[from, to). */
function readInteger(buffer: Buffer, from: number, to: number): number {
  let index = from;
  let negative = false;
  if (buffer[index] === 0x2d) {
    negative = true;
    index += 1;
  }
  if (index >= to) throw new RespProtocolError(`an empty length at offset ${from}`);
  let value = 0;
  for (; index < to; index += 1) {
    const digit = buffer[index]! - 0x30;
    if (digit < 0 || digit > 9) throw new RespProtocolError(`a length that is not an integer at offset ${from}`);
    value = value * 10 + digit;
  }
  return negative ? -value : value;
}

/**
 * The end (exclusive) of the complete frame starting at `start`, or -1 when the buffer ends first.
 * RESP3 attributes (`|`) are part of the reply they precede.
 */
export function frameEnd(buffer: Buffer, start: number): number {
  if (start >= buffer.length) return -1;
  const type = buffer[start]!;
  switch (type) {
    case 0x2b: // + simple string
    case 0x2d: // - error
    case 0x3a: // : integer
    case 0x5f: // _ null
    case 0x2c: // , double
    case 0x23: // # boolean
    case 0x28: {
      // ( big number
      const end = lineEnd(buffer, start + 1);
      return end < 0 ? -1 : end + 2;
    }
    case 0x24: // $ bulk string
    case 0x21: // ! bulk error
    case 0x3d: {
      // = verbatim string
      const end = lineEnd(buffer, start + 1);
      if (end < 0) return -1;
      const length = readInteger(buffer, start + 1, end);
      if (length < 0) return end + 2;
      const after = end + 2 + length + 2;
      if (after > buffer.length) return -1;
      if (buffer[after - 2] !== CR || buffer[after - 1] !== LF) throw new RespProtocolError(`a bulk string not ended by \\r\\n at offset ${after - 2}`);
      return after;
    }
    case 0x2a: // * array
    case 0x7e: // ~ set
    case 0x3e: // > push
    case 0x25: // % map
    case 0x7c: {
      // | attribute
      const end = lineEnd(buffer, start + 1);
      if (end < 0) return -1;
      const count = readInteger(buffer, start + 1, end);
      let at = end + 2;
      const elements = count < 0 ? 0 : type === 0x25 || type === 0x7c ? count * 2 : count;
      for (let index = 0; index < elements; index += 1) {
        at = frameEnd(buffer, at);
        if (at < 0) return -1;
      }
      // An attribute describes the reply that follows it: one frame with it.
      return type === 0x7c ? frameEnd(buffer, at) : at;
    }
    default:
      throw new RespProtocolError(`unknown RESP type byte 0x${type.toString(16)} at offset ${start}`);
  }
}

/**
 * Splits a byte stream into complete frames, across chunks. Holds only the incomplete tail.
 */
export class FrameSplitter {
  #tail: Buffer | undefined;

  /** Bytes of an incomplete frame held back. */
  get pending(): number {
    return this.#tail?.length ?? 0;
  }

  /** Calls `onFrame(frame)` for each frame the chunk completes, in order. */
  feed(chunk: Buffer, onFrame: (frame: Buffer) => void): void {
    const buffer = this.#tail === undefined ? chunk : Buffer.concat([this.#tail, chunk]);
    this.#tail = undefined;
    let at = 0;
    while (at < buffer.length) {
      const end = frameEnd(buffer, at);
      if (end < 0) break;
      onFrame(buffer.subarray(at, end));
      at = end;
    }
    if (at < buffer.length) this.#tail = buffer.subarray(at);
  }
}

/** A command read from the stream: its argv and its exact bytes. */
export interface CommandFrame {
  readonly argv: Buffer[];
  readonly raw: Buffer;
}

/**
 * Reads the command frame starting at `start`: `{ argv, end }`, or undefined when incomplete. A
 * line not starting with `*` is an inline command (arguments split on spaces and tabs).
 */
export function readCommand(buffer: Buffer, start: number): { argv: Buffer[]; end: number } | undefined {
  if (start >= buffer.length) return undefined;
  if (buffer[start] !== 0x2a) {
    const nl = buffer.indexOf(LF, start);
    if (nl < 0) return undefined;
    const lineTo = nl > start && buffer[nl - 1] === CR ? nl - 1 : nl;
    const argv = buffer
      .subarray(start, lineTo)
      .toString('latin1')
      .split(/[ \t]+/)
      .filter((part) => part !== '')
      .map((part) => Buffer.from(part, 'latin1'));
    return { argv, end: nl + 1 };
  }
  const end = lineEnd(buffer, start + 1);
  if (end < 0) return undefined;
  const count = readInteger(buffer, start + 1, end);
  const argv: Buffer[] = [];
  let at = end + 2;
  for (let index = 0; index < count; index += 1) {
    if (at >= buffer.length) return undefined;
    if (buffer[at] !== 0x24) throw new RespProtocolError(`a command argument that is not a bulk string at offset ${at}`);
    const headerEnd = lineEnd(buffer, at + 1);
    if (headerEnd < 0) return undefined;
    const length = readInteger(buffer, at + 1, headerEnd);
    if (length < 0) throw new RespProtocolError(`a null command argument at offset ${at}`);
    const from = headerEnd + 2;
    if (from + length + 2 > buffer.length) return undefined;
    if (buffer[from + length] !== CR || buffer[from + length + 1] !== LF) throw new RespProtocolError(`an argument not ended by \\r\\n at offset ${from + length}`);
    argv.push(buffer.subarray(from, from + length));
    at = from + length + 2;
  }
  return { argv, end: at };
}

/** Reads command frames across chunks (ioredis may write a command in several writes). */
export class CommandReader {
  #tail: Buffer | undefined;

  get pending(): number {
    return this.#tail?.length ?? 0;
  }

  feed(chunk: Buffer, onCommand: (command: CommandFrame) => void): void {
    const buffer = this.#tail === undefined ? chunk : Buffer.concat([this.#tail, chunk]);
    this.#tail = undefined;
    let at = 0;
    while (at < buffer.length) {
      const read = readCommand(buffer, at);
      if (read === undefined) break;
      // An empty inline line is no command.
      if (read.argv.length > 0) onCommand({ argv: read.argv, raw: buffer.subarray(at, read.end) });
      at = read.end;
    }
    if (at < buffer.length) this.#tail = buffer.subarray(at);
  }
}

/** One RESP value decoded, for the replies the stream reads itself (DUMP, EXEC, pub/sub counts). */
export type RespValue = Buffer | number | null | RespError | RespValue[];

export class RespError extends Error {}

/** Decodes the complete frame at `start` (simple types as Buffers, integers as numbers). */
export function decodeFrame(buffer: Buffer, start = 0): { value: RespValue; end: number } {
  const type = buffer[start]!;
  const end = lineEnd(buffer, start + 1);
  if (end < 0) throw new RespProtocolError('an incomplete frame');
  const line = (): Buffer => buffer.subarray(start + 1, end);
  switch (type) {
    case 0x2b:
    case 0x2c:
    case 0x28:
    case 0x23:
      return { value: line(), end: end + 2 };
    case 0x2d:
      return { value: new RespError(line().toString('utf8')), end: end + 2 };
    case 0x3a:
      return { value: readInteger(buffer, start + 1, end), end: end + 2 };
    case 0x5f:
      return { value: null, end: end + 2 };
    case 0x24:
    case 0x21:
    case 0x3d: {
      const length = readInteger(buffer, start + 1, end);
      if (length < 0) return { value: null, end: end + 2 };
      const value = buffer.subarray(end + 2, end + 2 + length);
      return { value: type === 0x21 ? new RespError(value.toString('utf8')) : value, end: end + 2 + length + 2 };
    }
    case 0x2a:
    case 0x7e:
    case 0x3e:
    case 0x25: {
      const count = readInteger(buffer, start + 1, end);
      if (count < 0) return { value: null, end: end + 2 };
      const values: RespValue[] = [];
      let at = end + 2;
      for (let index = 0; index < (type === 0x25 ? count * 2 : count); index += 1) {
        const decoded = decodeFrame(buffer, at);
        values.push(decoded.value);
        at = decoded.end;
      }
      return { value: values, end: at };
    }
    default:
      throw new RespProtocolError(`cannot decode RESP type byte 0x${type.toString(16)}`);
  }
}

const CRLF = '\r\n';

/** Encodes argv as a RESP array of bulk strings. */
export function encodeCommand(argv: ReadonlyArray<Buffer | string | number>): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${argv.length}${CRLF}`, 'latin1')];
  for (const arg of argv) {
    const bytes = Buffer.isBuffer(arg) ? arg : Buffer.from(String(arg), 'utf8');
    parts.push(Buffer.from(`$${bytes.length}${CRLF}`, 'latin1'), bytes, Buffer.from(CRLF, 'latin1'));
  }
  return Buffer.concat(parts);
}

/** An error reply: `-<message>\r\n`, line breaks flattened. */
export function errorReply(message: string): Buffer {
  return Buffer.from(`-${message.replaceAll(/[\r\n]+/g, ' ')}${CRLF}`, 'utf8');
}
