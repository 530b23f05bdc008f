import { describe, expect, it } from 'vitest';
import { createRedactor, REDACTED } from './redact.ts';

describe('createRedactor', () => {
  const redact = createRedactor();

  it.each([
    ['URL user-info', 'GET https://bob:s3cret@api.example.test/x', `GET https://bob:${REDACTED}@api.example.test/x`],
    ['authorization header', 'POST /pay\nAuthorization: Bearer abc.def\nAccept: */*', `POST /pay\nAuthorization: ${REDACTED}\nAccept: */*`],
    ['cookie header', 'cookie: sid=1; theme=dark', `cookie: ${REDACTED}`],
    ['x-api-key header', 'x-api-key: k-123', `x-api-key: ${REDACTED}`],
    ['bearer token in text', 'token was Bearer eyJhbGciOi.J9= ok', `token was Bearer ${REDACTED} ok`],
    ['Redis AUTH', 'AUTH default hunter2', `AUTH ${REDACTED}`],
    ['Redis HELLO AUTH', 'HELLO 3 AUTH default hunter2 SETNAME x', `HELLO 3 AUTH ${REDACTED} SETNAME x`],
    ['JSON password', '{"user":"bob","password":"p\\"w","n":1}', `{"user":"bob","password":"${REDACTED}","n":1}`],
    ['JSON numeric secret', '{"pin":1,"secret": 12345}', `{"pin":1,"secret": "${REDACTED}"}`],
    ['query token', 'GET /cb?code=1&access_token=abc&x=2', `GET /cb?code=1&access_token=${REDACTED}&x=2`],
    ['query api key', 'GET /v1?api_key=zzz', `GET /v1?api_key=${REDACTED}`],
    ['SQL quoted password', "UPDATE users SET password = 'it''s' WHERE id = 1", `UPDATE users SET password = ${REDACTED} WHERE id = 1`],
    ['SQL double-quoted secret', 'INSERT INTO t SET secret="x y", a=1', `INSERT INTO t SET secret=${REDACTED}, a=1`],
  ])('hides %s', (_what, input, expected) => {
    expect(redact(input)).toBe(expected);
  });

  it.each([
    'SELECT id, token_count FROM sessions WHERE token_count = 3',
    'GET /orders?page=2&sort=desc',
    'SET cache:product:7 {"name":"lamp","price":12}',
    'INSERT INTO passwords_history (user_id) VALUES (1)',
    'incr session:42:count',
    'hset user:7 passwordHash x',
  ])('leaves ordinary text alone: %s', (input) => {
    expect(redact(input)).toBe(input);
  });

  it('adds user-named keys and a custom pass', () => {
    const custom = createRedactor({ keys: ['card.number'], custom: (text) => text.replace(/\b\d{16}\b/g, '[CARD]') });
    expect(custom('{"card.number":"4111"} paid with 4111111111111111')).toBe(`{"card.number":"${REDACTED}"} paid with [CARD]`);
  });
});
