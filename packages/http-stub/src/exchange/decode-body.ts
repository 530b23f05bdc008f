import { brotliDecompressSync, gunzipSync, inflateSync } from 'node:zlib';
import type { Header, RecordedResponse } from './exchange.ts';

const DECODERS: Readonly<Record<string, (body: Buffer) => Buffer>> = {
  gzip: gunzipSync,
  'x-gzip': gunzipSync,
  deflate: inflateSync,
  br: brotliDecompressSync,
};

/** Headers describing bytes that are no longer what they were: dropped when a body is stored decoded. */
const describesEncodedBytes = (name: string): boolean => name === 'content-encoding' || name === 'content-length';

/**
 * A response as stored: its body decoded (gzip, deflate, br), as HAR 1.2 wants `content.text`, so
 * that redaction sees the JSON and other HAR tools read it; `content-encoding` and `content-length`
 * go with the encoded bytes. A body that does not decode is kept as it came.
 */
export function decodeResponse(response: RecordedResponse): RecordedResponse {
  const encoding = response.headers.find(([name]) => name === 'content-encoding')?.[1].trim().toLowerCase();
  const decode = encoding === undefined ? undefined : DECODERS[encoding];
  if (decode === undefined || response.body.length === 0) return response;
  try {
    const body = decode(response.body);
    return { ...response, body, headers: response.headers.filter(([name]) => !describesEncodedBytes(name)) };
  } catch {
    return response;
  }
}

/**
 * A recorded response's headers as replay sends them: a `content-encoding` left in a HAR whose
 * `content.text` is decoded (as HAR tools write it) would make the client decode it again.
 */
export function replayHeaders(headers: readonly Header[]): Header[] {
  return headers.some(([name]) => name === 'content-encoding') ? headers.filter(([name]) => !describesEncodedBytes(name)) : [...headers];
}
