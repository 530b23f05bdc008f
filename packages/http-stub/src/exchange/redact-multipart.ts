import { REDACTED, type Redactor } from '@mirrorguard/core';

/** Redacts one part's content, by the part's content type. */
export type PartRedactor = (content: Buffer, contentType: string) => Buffer;

/** The value of a parameter in a header (`name="password"`, `name=password`), if any. */
function parameter(header: string, name: string): string | undefined {
  const match = new RegExp(`(?:^|;)\\s*${name}\\s*=\\s*(?:"((?:[^"\\\\]|\\\\.)*)"|([^;\\s]*))`, 'i').exec(header);
  return match === null ? undefined : (match[1] ?? match[2] ?? '').replace(/\\(.)/g, '$1');
}

/** One part: its header lines, its content, and the line break that ends it (before the next delimiter). */
function redactPart(piece: string, redactor: Redactor, redactContent: PartRedactor): string {
  const crlf = piece.indexOf('\r\n\r\n');
  const lf = piece.indexOf('\n\n');
  const split = crlf >= 0 && (lf < 0 || crlf < lf) ? { at: crlf, length: 4 } : lf >= 0 ? { at: lf, length: 2 } : undefined;
  // No header block: not a part as declared; its text is redacted as text.
  if (split === undefined) return redactor.text(piece);
  const head = piece.slice(0, split.at);
  const ending = piece.endsWith('\r\n') ? '\r\n' : piece.endsWith('\n') ? '\n' : '';
  const content = piece.slice(split.at + split.length, piece.length - ending.length);
  const headers = new Map<string, string>();
  const lines = head.split(/(\r?\n)/).map((line) => {
    const colon = line.indexOf(':');
    if (colon <= 0) return line;
    const name = line.slice(0, colon).trim();
    const value = line.slice(colon + 1).trim();
    headers.set(name.toLowerCase(), value);
    const redacted = redactor.header(name, value);
    return redacted === value ? line : `${line.slice(0, colon + 1)} ${redacted}`;
  });
  const disposition = headers.get('content-disposition') ?? '';
  // Names are UTF-8 on the wire; the body is read as latin1 to keep every byte.
  const name = Buffer.from(parameter(disposition, 'name') ?? '', 'latin1').toString('utf8');
  const filename = parameter(disposition, 'filename');
  let redacted: string;
  if (name !== '' && redactor.isFormSecretKey(name)) {
    redacted = content === '' || content === REDACTED ? content : REDACTED;
  } else {
    const contentType = headers.get('content-type') ?? (filename === undefined ? 'text/plain' : 'application/octet-stream');
    const base64 = (headers.get('content-transfer-encoding') ?? '').toLowerCase() === 'base64';
    const bytes = base64 ? Buffer.from(content, 'base64') : Buffer.from(content, 'latin1');
    const after = redactContent(bytes, contentType);
    redacted = after === bytes ? content : base64 ? after.toString('base64') : after.toString('latin1');
  }
  return `${lines.join('')}${piece.slice(split.at, split.at + split.length)}${redacted}${ending}`;
}

/**
 * A multipart body (a form with files, `multipart/mixed`) with its secrets replaced: a part whose
 * name is secret (`name="password"`, `name="client_secret"`, `name="code"`) is replaced whole; every
 * other part is redacted by its own content type, its headers as headers. The boundary and every byte
 * not redacted are kept. Undefined when the boundary is not found: the caller treats the body as text.
 */
export function redactMultipart(body: Buffer, boundary: string, redactor: Redactor, redactContent: PartRedactor): Buffer | undefined {
  const text = body.toString('latin1');
  const pieces = text.split(`--${boundary}`);
  if (pieces.length < 2) return undefined;
  let changed = false;
  for (let index = 0; index < pieces.length; index += 1) {
    const piece = pieces[index]!;
    // The preamble, and the epilogue after the closing delimiter: no part, but text all the same.
    const outside = index === 0 || piece.startsWith('--');
    const redacted = outside ? redactor.text(piece) : redactPart(piece, redactor, redactContent);
    if (redacted !== piece) {
      pieces[index] = redacted;
      changed = true;
    }
  }
  return changed ? Buffer.from(pieces.join(`--${boundary}`), 'latin1') : body;
}
