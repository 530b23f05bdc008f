import { Response as UndiciResponse } from 'undici';
import type { Header } from '../exchange/exchange.ts';

const text = (value: unknown): string => (Buffer.isBuffer(value) || value instanceof Uint8Array ? Buffer.from(value).toString('latin1') : String(value));

/** A dispatch's headers in any of undici's shapes (flat array, object, iterable of pairs) as lower-case name/value pairs. */
export function requestHeaders(headers: unknown): Header[] {
  if (headers === null || headers === undefined) return [];
  const result: Header[] = [];
  const add = (name: unknown, value: unknown): void => {
    if (value === undefined || value === null) return;
    if (Array.isArray(value)) for (const item of value) result.push([text(name).toLowerCase(), text(item)]);
    else result.push([text(name).toLowerCase(), text(value)]);
  };
  if (Array.isArray(headers)) {
    if (headers.length > 0 && Array.isArray(headers[0])) for (const [name, value] of headers as Array<[unknown, unknown]>) add(name, value);
    else for (let index = 0; index + 1 < headers.length; index += 2) add(headers[index], headers[index + 1]);
  } else if (typeof (headers as Iterable<unknown>)[Symbol.iterator] === 'function' && typeof headers !== 'string') {
    for (const [name, value] of headers as Iterable<[unknown, unknown]>) add(name, value);
  } else {
    for (const [name, value] of Object.entries(headers as Record<string, unknown>)) add(name, value);
  }
  return result;
}

/** Response headers as undici hands them to a handler (an object; repeated names as arrays) from name/value pairs. */
export function responseHeaderObject(headers: readonly Header[]): Record<string, string | string[]> {
  const result: Record<string, string | string[]> = {};
  for (const [name, value] of headers) {
    const existing = result[name];
    result[name] = existing === undefined ? value : Array.isArray(existing) ? [...existing, value] : [existing, value];
  }
  return result;
}

/** Flat raw headers (`[name, value, …]` as Buffers), as undici's controllers carry them. */
export const rawHeaders = (headers: readonly Header[]): Buffer[] => headers.flatMap(([name, value]) => [Buffer.from(name), Buffer.from(value)]);

/** A request body read in full, and the content type it implies (FormData's multipart boundary). */
export interface ReadBody {
  readonly body: Buffer;
  readonly contentType?: string;
}

const chunkOf = (chunk: unknown): Buffer => {
  if (typeof chunk === 'string') return Buffer.from(chunk);
  if (ArrayBuffer.isView(chunk)) return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  throw new TypeError(`a request body chunk of type ${Object.prototype.toString.call(chunk)} cannot be read for matching`);
};

/**
 * A request body in any form undici accepts — string, Buffer, any typed array or DataView,
 * ArrayBuffer, Blob, FormData (serialized as multipart, its boundary returned as the content type),
 * Node stream, async or sync iterable of chunks, web ReadableStream — read in full, so it can be
 * matched (never as "[object ReadableStream]") and still be sent. Anything else fails.
 */
export async function readRequestBody(body: unknown): Promise<ReadBody> {
  if (body === null || body === undefined) return { body: Buffer.alloc(0) };
  if (typeof body === 'string') return { body: Buffer.from(body, 'utf8') };
  if (Buffer.isBuffer(body)) return { body };
  if (ArrayBuffer.isView(body) || body instanceof ArrayBuffer) return { body: body instanceof ArrayBuffer ? Buffer.from(body) : chunkOf(body) };
  if (Object.prototype.toString.call(body) === '[object FormData]') {
    // Node's own FormData and npm undici's are different classes: each Response serializes only its own.
    for (const Serializer of [Response, UndiciResponse]) {
      const serialized = new Serializer(body as FormData);
      const contentType = serialized.headers.get('content-type') ?? '';
      if (contentType.startsWith('multipart/')) return { body: Buffer.from(await serialized.arrayBuffer()), contentType };
    }
    throw new TypeError('a FormData body that neither Node\'s nor undici\'s Response can serialize');
  }
  if (body instanceof Blob) return { body: Buffer.from(await body.arrayBuffer()), ...(body.type !== '' && { contentType: body.type }) };
  if (typeof (body as ReadableStream).getReader === 'function' && typeof (body as AsyncIterable<unknown>)[Symbol.asyncIterator] !== 'function') {
    const reader = (body as ReadableStream<Uint8Array>).getReader();
    const chunks: Buffer[] = [];
    for (let read = await reader.read(); !read.done; read = await reader.read()) chunks.push(chunkOf(read.value));
    return { body: Buffer.concat(chunks) };
  }
  if (typeof (body as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function' || typeof (body as Iterable<unknown>)[Symbol.iterator] === 'function') {
    const chunks: Buffer[] = [];
    for await (const chunk of body as AsyncIterable<unknown>) chunks.push(chunkOf(chunk));
    return { body: Buffer.concat(chunks) };
  }
  throw new TypeError(`a request body of type ${Object.prototype.toString.call(body)} cannot be read for matching`);
}
