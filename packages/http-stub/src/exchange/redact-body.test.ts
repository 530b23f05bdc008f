import { brotliCompressSync, gunzipSync, gzipSync } from 'node:zlib';
import { createRedactor, REDACTED } from '@mirrorguard/core';
import { describe, expect, it } from 'vitest';
import { decodeContent } from './decode-body.ts';
import { redactBody } from './redact-body.ts';
import { createExchangeRedactor } from './redact-exchange.ts';

const redactor = createRedactor();
const redact = (body: string | Buffer, contentType = ''): string => redactBody(Buffer.from(body), contentType, redactor).toString('utf8');

describe('redactBody', () => {
  it.each([
    ['JSON, nested and in arrays', 'application/json', '{"a":[{"b":{"refresh_token":"s1"}}],"ok":1}', `{"a":[{"b":{"refresh_token":"${REDACTED}"}}],"ok":1}`],
    ['JSON after a BOM', 'application/json', '\uFEFF{"env":[{"name":"DB_PASSWORD","value":"s1"}]}', `\uFEFF{"env":[{"name":"DB_PASSWORD","value":"${REDACTED}"}]}`],
    ['JSON after an XSSI prefix', 'application/json', `)]}'\n{"auth":{"u":"s1"}}`, `)]}'\n{"auth":{"u":"${REDACTED}"}}`],
    ['JSON with no content type', '', '  {"password":"s1"}', `  {"password":"${REDACTED}"}`],
    ['NDJSON', 'application/x-ndjson', '{"id_token":"s1"}\n{"credentials":{"x":"s2"}}\n', `{"id_token":"${REDACTED}"}\n{"credentials":{"x":"${REDACTED}"}}\n`],
    ['server-sent events', 'text/event-stream', 'event: t\ndata: {"access_token":"s1"}\n\ndata: plain Bearer s2-long-token\n\n', `event: t\ndata: {"access_token":"${REDACTED}"}\n\ndata: plain Bearer ${REDACTED}\n\n`],
    ['a form (the OAuth token request)', 'application/x-www-form-urlencoded', 'grant_type=authorization_code&code=s1&CLIENT_SECRET=s2&client_id=c', `grant_type=authorization_code&code=${REDACTED}&CLIENT_SECRET=${REDACTED}&client_id=c`],
    ['XML', 'application/xml', '<a><Password>s1</Password><id>7</id></a>', `<a><Password>${REDACTED}</Password><id>7</id></a>`],
    ['text', 'text/plain', 'x-vault-token: s1\npassword=s2 ok', `x-vault-token: ${REDACTED}\npassword=${REDACTED} ok`],
  ])('hides secrets in %s', (_what, contentType, body, expected) => {
    expect(redact(body, contentType)).toBe(expected);
    // Again: nothing more changes (replay redacts recorded requests once more before matching).
    expect(redact(expected, contentType)).toBe(expected);
  });

  it('keeps a body with no secret byte for byte (the same Buffer)', () => {
    for (const [body, type] of [['{"a": 1,  "b": [1.50, 12345678901234567890]}', 'application/json'], ['a=1&b=2', 'application/x-www-form-urlencoded'], ['plain text', 'text/plain']] as const) {
      const bytes = Buffer.from(body);
      expect(redactBody(bytes, type, redactor)).toBe(bytes);
    }
  });

  it('keeps numbers exactly when it writes JSON again', () => {
    expect(redact('{"n":12345678901234567891,"d":1.10,"secret":"s"}', 'application/json')).toBe(`{"n":12345678901234567891,"d":1.10,"secret":"${REDACTED}"}`);
  });

  it('redacts multipart part by part: secret-named parts whole, others by their type, the boundary kept', () => {
    const body = [
      '--b0',
      'Content-Disposition: form-data; name="Client-Secret"',
      '',
      's1',
      '--b0',
      'Content-Disposition: form-data; name="meta"; filename="m.json"',
      'Content-Type: application/json',
      '',
      '{"apiKey":"s2","n":1}',
      '--b0',
      'Content-Disposition: form-data; name="note"',
      '',
      'hello',
      '--b0--',
      '',
    ].join('\r\n');
    expect(redact(body, 'multipart/form-data; boundary=b0')).toBe(body.replace('s1', REDACTED).replace('{"apiKey":"s2","n":1}', `{"apiKey":"${REDACTED}","n":1}`));
  });

  it('redacts inside a gzip body sent as such, and compresses it again', () => {
    const body = gzipSync('{"token":"s1"}');
    const redacted = redactBody(body, 'application/gzip', redactor);
    expect(gunzipSync(redacted).toString()).toBe(`{"token":"${REDACTED}"}`);
    const plain = gzipSync('{"n":1}');
    expect(redactBody(plain, 'application/gzip', redactor)).toBe(plain);
  });

  it('scans a binary body for what is written in it as text, and changes no other byte', () => {
    const noise = Buffer.from([0, 255, 128, 7, 0xc3]);
    const body = Buffer.concat([noise, Buffer.from(' AKIAIOSFODNN7EXAMPLE '), noise]);
    expect(redactBody(body, 'application/octet-stream', redactor)).toEqual(Buffer.concat([noise, Buffer.from(` ${REDACTED} `), noise]));
  });
});

describe('decodeContent', () => {
  it('decodes gzip, br and several codings in turn, dropping the headers of the encoded bytes', () => {
    const headers = [['content-encoding', 'gzip'], ['content-length', '9'], ['content-type', 'application/json']] as const;
    expect(decodeContent(headers, gzipSync('{"a":1}'))).toEqual({ headers: [['content-type', 'application/json']], body: Buffer.from('{"a":1}') });
    expect(decodeContent([['content-encoding', 'gzip, br']], brotliCompressSync(gzipSync('x'))).body.toString()).toBe('x');
  });

  it('never keeps a body it cannot decode: a note says what it was', () => {
    for (const [encoding, body] of [['gzip', Buffer.from('not gzip, "password":"s1"')], ['compress', Buffer.from('s1')]] as const) {
      const decoded = decodeContent([['content-encoding', encoding]], body);
      expect(decoded.headers).toEqual([]);
      expect(decoded.body.toString()).toMatch(new RegExp(`^\\[REDACTED\\] a body in content-encoding ${encoding} that could not be decoded`));
      expect(decoded.body.toString()).not.toContain('s1');
    }
  });
});

describe('createExchangeRedactor', () => {
  it('redacts a request as stored: URL, headers, decoded body, a true content-length', () => {
    const exchange = createExchangeRedactor(redactor);
    const body = Buffer.from('{"password":"hunter2"}');
    const request = exchange.request({
      method: 'POST',
      url: 'https://api.test/v1/tokens/Zk81mQp0aa9X?API_KEY=s1&page=2',
      headers: [['content-encoding', 'gzip'], ['content-type', 'application/json'], ['x-goog-api-key', 's2'], ['cookie', 'a=s3'], ['referer', 'https://app.test/?code=s4']],
      body: gzipSync(body),
    });
    expect(request).toEqual({
      method: 'POST',
      url: `https://api.test/v1/tokens/${REDACTED}?API_KEY=${REDACTED}&page=2`,
      headers: [['content-type', 'application/json'], ['x-goog-api-key', REDACTED], ['cookie', `a=${REDACTED}`], ['referer', `https://app.test/?code=${REDACTED}`]],
      body: Buffer.from(`{"password":"${REDACTED}"}`),
    });
    expect(exchange.request(request)).toEqual(request);
    const withLength = exchange.request({ method: 'POST', url: 'http://a.test/', headers: [['content-length', String(body.length)], ['content-type', 'application/json']], body });
    expect(withLength.headers).toContainEqual(['content-length', String(withLength.body.length)]);
  });
});
