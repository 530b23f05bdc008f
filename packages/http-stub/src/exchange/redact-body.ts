import { isUtf8 } from 'node:buffer';
import type { Redactor } from '@mirrorguard/core';
import { sniffCompression } from './decode-body.ts';
import { parseExactJson, stringifyExactJson } from './exact-json.ts';
import { redactMultipart } from './redact-multipart.ts';

/** Multipart in multipart, compression in multipart: deeper than this a body is redacted as text. */
const MAX_NESTING = 4;

/** A byte-order mark, and the prefixes that keep JSON from running as a script (XSSI): `)]}'`, `while(1);`, `for(;;);`. */
const JSON_PREFIX = /^\uFEFF?(?:\)\]\}'?,?|while\s*\(\s*1\s*\);|for\s*\(\s*;\s*;\s*\);|&&&START&&&)?\s*/;
const isJsonType = (type: string): boolean => /[/+]json$/.test(type);

const mediaType = (contentType: string): string => (contentType.split(';')[0] ?? '').trim().toLowerCase();

/** A JSON object or array, after any prefix, with its secrets replaced; undefined when it is not JSON. */
function redactJsonText(text: string, redactor: Redactor): string | undefined {
  const prefix = JSON_PREFIX.exec(text)?.[0] ?? '';
  const rest = text.slice(prefix.length);
  if (!rest.startsWith('{') && !rest.startsWith('[')) return undefined;
  let value: unknown;
  try {
    // The plain parser first: it is several times faster, and most bodies hold no secret.
    value = JSON.parse(rest);
  } catch {
    return undefined;
  }
  if (redactor.json(value) === value) return text;
  // Something is hidden: written again from an exact parse, so that every number keeps its text.
  return `${prefix}${stringifyExactJson(redactor.json(parseExactJson(rest)))}`;
}

/** Line by line: NDJSON and JSON text sequences (a record per line), and server-sent events (`data:` lines). */
function redactLines(text: string, redactor: Redactor): string {
  const lines = text.split('\n');
  let changed = false;
  for (let index = 0; index < lines.length; index += 1) {
    const line = lines[index]!;
    // `data: {…}` (SSE), a record separator (JSON text sequences), or the record itself.
    const lead = /^(?:data: ?|\u001e)?/.exec(line)?.[0] ?? '';
    const payload = line.slice(lead.length);
    const redacted = lead + (redactJsonText(payload, redactor) ?? redactor.text(payload));
    if (redacted !== line) {
      lines[index] = redacted;
      changed = true;
    }
  }
  return changed ? lines.join('\n') : text;
}

function redactTextBody(text: string, type: string, redactor: Redactor): string {
  if (type === 'application/x-www-form-urlencoded') return redactor.form(text);
  // JSON by its type or its first character (after a BOM or an XSSI prefix); else line by line if it
  // has lines (NDJSON, JSON text sequences and server-sent events all do), else text.
  const json = isJsonType(type) || /^\uFEFF?[)\]}wf&[{\s]/.test(text) ? redactJsonText(text, redactor) : undefined;
  if (json !== undefined) return json;
  return text.includes('\n') ? redactLines(text, redactor) : redactor.text(text);
}

/**
 * A body (decoded already from its content-encoding) with its secrets replaced, as its content type
 * says or its bytes show: JSON (also after a BOM or an XSSI prefix), NDJSON, server-sent events,
 * form-urlencoded, multipart (part by part), gzip or zlib bytes sent as such (redacted inside, then
 * compressed again), and any other text by the text rules. A binary body (not UTF-8) is scanned as
 * latin1 by the text rules, which find what is written in it as text (token shapes, `name=value`)
 * and replace those bytes only. Returns `body` itself when nothing was secret.
 */
export function redactBody(body: Buffer, contentType: string, redactor: Redactor, nesting = 0): Buffer {
  if (body.length === 0) return body;
  const type = mediaType(contentType);
  if (type.startsWith('multipart/') && nesting < MAX_NESTING) {
    const boundary = /;\s*boundary\s*=\s*(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
    const parts = boundary === null ? undefined : redactMultipart(body, boundary[1] ?? boundary[2]!, redactor, (content, partType) => redactBody(content, partType, redactor, nesting + 1));
    if (parts !== undefined) return parts;
  }
  if (!isUtf8(body)) {
    const codec = nesting < MAX_NESTING ? sniffCompression(body) : undefined;
    if (codec !== undefined) {
      try {
        const inner = codec.decode(body);
        const redacted = redactBody(inner, '', redactor, nesting + 1);
        return redacted === inner ? body : codec.encode(redacted);
      } catch {
        // Not compressed after all: scanned as binary below.
      }
    }
    const latin1 = body.toString('latin1');
    const redacted = redactor.text(latin1);
    return redacted === latin1 ? body : Buffer.from(redacted, 'latin1');
  }
  const text = body.toString('utf8');
  const redacted = redactTextBody(text, type, redactor);
  return redacted === text ? body : Buffer.from(redacted, 'utf8');
}
