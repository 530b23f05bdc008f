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

/**
 * A request body in any form undici accepts — string, Buffer, typed array, Node stream, async
 * iterable, web ReadableStream — read in full, so it can be matched (never as "[object ReadableStream]")
 * and still be sent.
 */
export async function readRequestBody(body: unknown): Promise<Buffer> {
  if (body === null || body === undefined) return Buffer.alloc(0);
  if (typeof body === 'string') return Buffer.from(body, 'utf8');
  if (Buffer.isBuffer(body)) return body;
  if (body instanceof Uint8Array) return Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  if (body instanceof ArrayBuffer) return Buffer.from(body);
  if (typeof (body as ReadableStream).getReader === 'function' && typeof (body as AsyncIterable<unknown>)[Symbol.asyncIterator] !== 'function') {
    const reader = (body as ReadableStream<Uint8Array>).getReader();
    const chunks: Buffer[] = [];
    for (let read = await reader.read(); !read.done; read = await reader.read()) chunks.push(Buffer.from(read.value));
    return Buffer.concat(chunks);
  }
  if (typeof (body as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function' || typeof (body as Iterable<unknown>)[Symbol.iterator] === 'function') {
    const chunks: Buffer[] = [];
    for await (const chunk of body as AsyncIterable<unknown>) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk as Uint8Array));
    return Buffer.concat(chunks);
  }
  throw new TypeError(`a request body of type ${Object.prototype.toString.call(body)} cannot be read for matching`);
}
