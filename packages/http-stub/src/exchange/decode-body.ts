import * as zlib from 'node:zlib';
import { REDACTED } from '@mirrorguard/core';
import type { Header } from './exchange.ts';

/** A decoded body larger than this is not decoded (a decompression bomb): it is stored as undecodable. */
export const MAX_DECODED_BYTES: number = 64 * 1024 * 1024;

type Codec = (body: Buffer) => Buffer;

const limit = { maxOutputLength: MAX_DECODED_BYTES };
// zstd is Node's since 23.8; on an older Node a zstd body is undecodable.
const zstd = (zlib as { zstdDecompressSync?: (body: Buffer, options: object) => Buffer }).zstdDecompressSync;

const DECODERS: Readonly<Record<string, Codec>> = {
  gzip: (body) => zlib.gunzipSync(body, limit),
  'x-gzip': (body) => zlib.gunzipSync(body, limit),
  // `deflate` is zlib-wrapped by the standard, raw by some servers.
  deflate: (body) => (body.length > 0 && (body[0]! & 0x0f) === 8 ? zlib.inflateSync(body, limit) : zlib.inflateRawSync(body, limit)),
  br: (body) => zlib.brotliDecompressSync(body, limit),
  ...(zstd !== undefined && { zstd: (body: Buffer) => zstd(body, limit) }),
};

/** Headers describing bytes that are no longer what they were: dropped when a body is stored decoded. */
const describesEncodedBytes = (name: string): boolean => name === 'content-encoding' || name === 'content-length';

/** A body as stored, and the headers that describe it. */
export interface StoredBody {
  readonly headers: readonly Header[];
  readonly body: Buffer;
}

/**
 * A body as stored: decoded (gzip, deflate, br, zstd; several in turn), as HAR 1.2 wants `content.text`,
 * so that redaction sees its JSON and other HAR tools read it; `content-encoding` and `content-length`
 * go with the encoded bytes. A body that cannot be decoded — a coding this Node does not know, corrupt
 * bytes, more than MAX_DECODED_BYTES — cannot be inspected for secrets: it is replaced by a note
 * saying so, never stored as it came.
 */
export function decodeContent(headers: readonly Header[], body: Buffer): StoredBody {
  const encodings = headers
    .filter(([name]) => name === 'content-encoding')
    .flatMap(([, value]) => value.split(','))
    .map((value) => value.trim().toLowerCase())
    .filter((value) => value !== '' && value !== 'identity');
  if (encodings.length === 0) return { headers, body };
  const decodedHeaders = headers.filter(([name]) => !describesEncodedBytes(name));
  if (body.length === 0) return { headers: decodedHeaders, body };
  let decoded = body;
  // Codings are listed in the order they were applied: undone last first.
  for (const encoding of [...encodings].reverse()) {
    const decode = DECODERS[encoding];
    try {
      if (decode === undefined) throw new Error(`unknown content-encoding ${encoding}`);
      decoded = decode(decoded);
    } catch {
      // (Not its length either: two calls that differ only in an undecodable body's secrets still match.)
      return { headers: decodedHeaders, body: Buffer.from(`${REDACTED} a body in content-encoding ${encodings.join(', ')} that could not be decoded`) };
    }
  }
  return { headers: decodedHeaders, body: decoded };
}

/** A body compressed without saying so (an `application/gzip` upload): its codec, by its first bytes. */
export function sniffCompression(body: Buffer): { readonly decode: Codec; readonly encode: Codec } | undefined {
  if (body.length < 3) return undefined;
  if (body[0] === 0x1f && body[1] === 0x8b && body[2] === 8) return { decode: DECODERS.gzip!, encode: (bytes) => zlib.gzipSync(bytes) };
  // A zlib header: deflate (CM 8), and a check value that divides.
  if ((body[0]! & 0x0f) === 8 && (body[0]! >> 4) <= 7 && ((body[0]! << 8) | body[1]!) % 31 === 0) return { decode: (bytes) => zlib.inflateSync(bytes, limit), encode: (bytes) => zlib.deflateSync(bytes) };
  return undefined;
}

/**
 * A recorded response's headers as replay sends them: a `content-encoding` left in a HAR whose
 * `content.text` is decoded (as HAR tools write it) would make the client decode it again.
 */
export function replayHeaders(headers: readonly Header[]): Header[] {
  return headers.some(([name]) => name === 'content-encoding') ? headers.filter(([name]) => !describesEncodedBytes(name)) : [...headers];
}
