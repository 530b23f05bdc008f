/** A key as the engine and the shadow track it: its raw bytes, as a latin1 string (binary-safe, usable in a Set). */
export type KeyId = string;

const ASCII = /^[\x00-\x7f]*$/;

type Latin1Slicing = Buffer & { latin1Slice(start: number, end: number): string };

export function keyId(key: string | Buffer | Uint8Array): KeyId {
  // An ASCII string is its own UTF-8 bytes read as latin1: no Buffer needed on the hot path.
  if (typeof key === 'string') return ASCII.test(key) ? key : Buffer.from(key, 'utf8').toString('latin1');
  // Node's own Latin-1 decoder, without toString()'s argument handling (this runs for every key of every command).
  return Buffer.isBuffer(key) ? (key as Latin1Slicing).latin1Slice(0, key.length) : Buffer.from(key).toString('latin1');
}
