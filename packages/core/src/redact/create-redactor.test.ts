import { describe, expect, it } from 'vitest';
import { createRedactor } from './create-redactor.ts';
import { REDACTED } from './redaction-rules.ts';
import { DEFAULT_SECRET_KEYS } from './secret-keys.ts';

describe('createRedactor: text', () => {
  const redact = createRedactor();

  it.each([
    ['URL user-info', 'GET https://bob:s3cret@api.example.test/x', `GET https://bob:${REDACTED}@api.example.test/x`],
    ['a token as the URL user', 'GET https://ghx0123456789@github.test/o/r', `GET https://${REDACTED}@github.test/o/r`],
    ['authorization header', 'POST /pay\nAuthorization: Bearer abc.def\nAccept: */*', `POST /pay\nAuthorization: ${REDACTED}\nAccept: */*`],
    ['cookie header', 'cookie: sid=1; theme=dark', `cookie: ${REDACTED}`],
    ['x-api-key header', 'x-api-key: k-123', `x-api-key: ${REDACTED}`],
    ['vendor header line', 'X-Vault-Token: hvs.abc', `X-Vault-Token: ${REDACTED}`],
    ['bearer token in text', 'token was Bearer eyJhbGciOi.J9= ok', `token was Bearer ${REDACTED} ok`],
    ['Redis AUTH', 'AUTH default hunter2', `AUTH ${REDACTED}`],
    ['Redis HELLO AUTH', 'HELLO 3 AUTH default hunter2 SETNAME x', `HELLO 3 AUTH ${REDACTED} SETNAME x`],
    ['JSON password', '{"user":"bob","password":"p\\"w","n":1}', `{"user":"bob","password":"${REDACTED}","n":1}`],
    ['JSON numeric secret (still JSON)', '{"pin":1,"secret": 12345}', `{"pin":"${REDACTED}","secret": "${REDACTED}"}`],
    ['query token and OAuth code', 'GET /cb?code=1&access_token=abc&x=2', `GET /cb?code=${REDACTED}&access_token=${REDACTED}&x=2`],
    ['query api key', 'GET /v1?api_key=zzz', `GET /v1?api_key=${REDACTED}`],
    ['query name in any case and spelling', 'GET /v1?ApI-KeY=zzz&X-AMZ-SIGNATURE=s', `GET /v1?ApI-KeY=${REDACTED}&X-AMZ-SIGNATURE=${REDACTED}`],
    ['SQL quoted password', "UPDATE users SET password = 'it''s' WHERE id = 1", `UPDATE users SET password = '${REDACTED}' WHERE id = 1`],
    ['SQL double-quoted secret', 'INSERT INTO t SET secret="x y", a=1', `INSERT INTO t SET secret="${REDACTED}", a=1`],
    ['a secret inside a value that is not', '{"note":"password=hunter2 ok"}', `{"note":"password=${REDACTED} ok"}`],
    ['an encoded query inside a URL', 'r=https%3A%2F%2Fa.test%2Fcb%3Faccess_token%3Dabc%26s%3D1', 'r=https%3A%2F%2Fa.test%2Fcb%3Faccess_token%3D%5BREDACTED%5D%26s%3D1'],
    ['a truncated quoted value', 'body {"password":"hunt…', `body {"password":"${REDACTED}`],
    ['XML element', '<auth><wsse:Password Type="t">pw</wsse:Password><user>bob</user></auth>', `<auth><wsse:Password Type="t">${REDACTED}</wsse:Password><user>bob</user></auth>`],
    ['YAML entry', 'db:\n  password: hunter2\n  host: x', `db:\n  password: ${REDACTED}\n  host: x`],
    ['a JWT anywhere', 'id eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig-nature_x done', `id ${REDACTED} done`],
    ['an AWS key id', 'key AKIAIOSFODNN7EXAMPLE used', `key ${REDACTED} used`],
    ['a PEM private key', 'k=-----BEGIN RSA PRIVATE KEY-----\nMIIB\n-----END RSA PRIVATE KEY-----.', `k=${REDACTED}.`],
    ['a secret path segment in a URL', 'GET https://api.test/v1/tokens/k3Yq81sZ0pLm/revoke', `GET https://api.test/v1/tokens/${REDACTED}/revoke`],
    ['a fragment', 'https://app.test/cb#access_token=abc&token_type=bearer', `https://app.test/cb#access_token=${REDACTED}&token_type=bearer`],
    ['a secret segment of a relative path', 'POST /v1/reset/Zk81mQp0aa9X?lang=en', `POST /v1/reset/${REDACTED}?lang=en`],
  ])('hides %s', (_what, input, expected) => {
    expect(redact(input)).toBe(expected);
    // Redacting again changes nothing.
    expect(redact(expected)).toBe(expected);
  });

  it.each([
    'SELECT id, token_count FROM sessions WHERE token_count = 3',
    'GET /orders?page=2&sort=desc',
    'SET cache:product:7 {"name":"lamp","price":12}',
    'INSERT INTO passwords_history (user_id) VALUES (1)',
    'incr session:42:count',
    'hset user:7 passwordHash x',
    'SET token:42 1',
    '{"error":{"code":"card_declined"},"token_type":"bearer","max_tokens":100,"keys":[{"kid":"k1","n":"AQAB"}]}',
    '{"publicKey":"MFkw","idempotency_key":"a-1","bypass":true,"sortKey":"s"}',
    'Basic authentication is required; use a Bearer token.',
    'GET https://auth.test/oauth/token',
    'GET https://auth.test/auth/login?next=%2Fhome',
    'GET https://api.test/tokens/refresh',
    'GET https://api.test/users/8/keys/12345',
    'in /tmp/my-secrets-Ab12/recording.har',
    '<Key>photos/2024/cat.jpg</Key>',
  ])('leaves ordinary text alone: %s', (input) => {
    expect(redact(input)).toBe(input);
  });

  it('adds user-named keys, value patterns and a custom pass', () => {
    const custom = createRedactor({ keys: ['card.number'], values: [/\bacme_[a-z0-9]{8}\b/], custom: (text) => text.replace(/\b\d{16}\b/g, '[CARD]') });
    expect(custom('{"card.number":"4111"} paid with 4111111111111111')).toBe(`{"card.number":"${REDACTED}"} paid with [CARD]`);
    // A string key matches normalized: another spelling of the same name.
    expect(custom('cardNumber=4111&CARD_NUMBER=4222')).toBe(`cardNumber=${REDACTED}&CARD_NUMBER=${REDACTED}`);
    expect(custom('key acme_1234abcd')).toBe(`key ${REDACTED}`);
  });

  it('replaces the defaults only when asked, and keeps them to spread', () => {
    const only = createRedactor({ defaults: false, keys: ['pin'] });
    expect(only('password=x&pin=1 AKIAIOSFODNN7EXAMPLE')).toBe(`password=x&pin=${REDACTED} AKIAIOSFODNN7EXAMPLE`);
    const some = createRedactor({ defaults: false, keys: [...DEFAULT_SECRET_KEYS.filter((key) => !key.test('cookie'))] });
    expect(some.header('cookie', 'a=1')).toBe('a=1');
    expect(some.header('authorization', 'Bearer x')).toBe(REDACTED);
  });
});

describe('createRedactor: structured parts', () => {
  const redact = createRedactor();

  it('matches names case- and separator-insensitively, x- prefix aside', () => {
    for (const name of ['api_key', 'apiKey', 'api-key', 'X-Api-Key', 'API.KEY', 'x-goog-api-key', 'x-amz-security-token', 'private-token', 'x-auth-token', 'x-vault-token', 'Ocp-Apim-Subscription-Key', 'X-Amz-Credential', 'X-Hub-Signature-256', 'JSESSIONID', 'connect.sid', 'client_assertion', 'refresh_token', 'id_token', 'client_secret', 'new_password', 'Proxy-Authorization', 'Set-Cookie']) {
      expect(redact.isSecretKey(name), name).toBe(true);
    }
    for (const name of ['content-type', 'token_type', 'max_tokens', 'keys', 'publicKey', 'idempotency-key', 'code', 'key', 'author', 'bypass', 'monkey', 'sid_count']) {
      expect(redact.isSecretKey(name), name).toBe(false);
    }
    expect(redact.isFormSecretKey('KEY')).toBe(true);
    expect(redact.isFormSecretKey('Code')).toBe(true);
  });

  it('redacts header values: whole for secret names, cookie values, URLs in Location and Referer', () => {
    expect(redact.header('Authorization', 'Digest username="u", response="r"')).toBe(REDACTED);
    expect(redact.header('cookie', 'sid=abc; theme=dark')).toBe(`sid=${REDACTED}; theme=${REDACTED}`);
    expect(redact.header('set-cookie', 'sid=abc; Path=/; HttpOnly')).toBe(`sid=${REDACTED}; Path=/; HttpOnly`);
    expect(redact.header('location', '/reset/tokens/Zx81kLq0aa9?sig=abc&next=%2F')).toBe(`/reset/tokens/${REDACTED}?sig=${REDACTED}&next=%2F`);
    expect(redact.header('referer', 'https://app.test/cb?CODE=abc')).toBe(`https://app.test/cb?CODE=${REDACTED}`);
    expect(redact.header('x-trace', 'Bearer ab9.Zk_12345')).toBe(`Bearer ${REDACTED}`);
    expect(redact.header('accept', 'application/json')).toBe('application/json');
  });

  it('redacts forms and URLs, keeping every other byte as written', () => {
    expect(redact.form('grant_type=authorization_code&code=abc&code_verifier=v&redirect_uri=https%3A%2F%2Fapp.test%2Fcb&client_secret=s')).toBe(
      `grant_type=authorization_code&code=${REDACTED}&code_verifier=${REDACTED}&redirect_uri=https%3A%2F%2Fapp.test%2Fcb&client_secret=${REDACTED}`,
    );
    expect(redact.form('api%5Fkey=x&a=%E0%A4%A')).toBe(`api%5Fkey=${REDACTED}&a=%E0%A4%A`);
    expect(redact.url('https://s3.test/b/o?X-Amz-Credential=AK%2F1&X-Amz-Signature=ff&X-Amz-Security-Token=t&x-id=GetObject')).toBe(
      `https://s3.test/b/o?X-Amz-Credential=${REDACTED}&X-Amz-Signature=${REDACTED}&X-Amz-Security-Token=${REDACTED}&x-id=GetObject`,
    );
    expect(redact.url('http://h.test//users/7;jsessionid=ABC123?')).toBe(`http://h.test//users/7;jsessionid=${REDACTED}?`);
    expect(redact.url('https://hooks.slack.com/services/T0000/B0000/XXXXXXXXXXXXXXXXXXXXXXXX')).toBe(`https://hooks.slack.com/services/${REDACTED}`);
  });

  it('redacts JSON at any depth, in arrays, keeping shapes and the same value when nothing is secret', () => {
    const plain = { a: [1, { b: 'c' }], d: null };
    expect(redact.json(plain)).toBe(plain);
    expect(
      redact.json({ user: 'bob', auth: { refresh_token: 'r', scopes: ['a'] }, list: [{ Password: 7, ok: true }], env: [{ name: 'DB_PASSWORD', value: 'pw' }], note: 'see https://x.test/?access_token=t' }),
    ).toEqual({
      user: 'bob',
      auth: { refresh_token: REDACTED, scopes: [REDACTED] },
      list: [{ Password: REDACTED, ok: true }],
      env: [{ name: 'DB_PASSWORD', value: REDACTED }],
      note: `see https://x.test/?access_token=${REDACTED}`,
    });
    const parsed = JSON.parse('{"__proto__":{"token":"t"}}') as object;
    const redacted = redact.json(parsed) as Record<string, unknown>;
    expect(Object.getPrototypeOf(redacted)).toBe(Object.prototype);
    expect(Object.keys(redacted)).toEqual(['__proto__']);
  });
});
