import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import type { Rng } from '../support/seeded-random.ts';
import type { PlantedSecrets } from '../support/secret-oracle.ts';

// Outbound calls with secrets planted in every place a secret travels in HTTP: query names in any
// case and spelling, URL paths, vendor and Authorization headers, cookies and set-cookie, Location
// and Referer, JSON nested at any depth (arrays too), form and multipart bodies, NDJSON, SSE, XML,
// text, a BOM or an XSSI prefix, gzip/br/deflate bodies, binary bodies — in requests and responses.
//
// The structure of each case comes from one random source, the secret values from another: the same
// structure seed with other secrets gives the same calls with rotated secrets, as a mirror sees them.

/** Names the defaults must hide in queries and forms (`key` and `code` there only). */
const QUERY_NAMES = ['api_key', 'apiKey', 'key', 'access_token', 'token', 'X-Amz-Signature', 'X-Amz-Credential', 'X-Amz-Security-Token', 'sig', 'Signature', 'session_token', 'client_secret', 'password', 'code', 'refresh_token', 'id_token', 'auth', 'private_key', 'secret', 'code_verifier', 'client_assertion'];
/** Names the defaults must hide in JSON, XML and multipart parts. */
const FIELD_NAMES = ['password', 'passwd', 'new_password', 'client_secret', 'access_token', 'refresh_token', 'id_token', 'api_key', 'apiKey', 'private_key', 'secret', 'authorization', 'credentials', 'session_id', 'sessionToken', 'otp', 'pin', 'cvv', 'client_assertion', 'x-api-key', 'cookie', 'aws_secret_access_key', 'webhook_secret'];
/** Request headers the defaults must hide. */
const HEADER_NAMES = ['x-api-key', 'api-key', 'x-goog-api-key', 'x-amz-security-token', 'private-token', 'x-auth-token', 'x-vault-token', 'x-csrf-token', 'ocp-apim-subscription-key', 'x-functions-key', 'x-hub-signature-256', 'proxy-authorization'];

const pick = <T>(rng: Rng, items: readonly T[]): T => items[Math.floor(rng() * items.length)]!;
const chance = (rng: Rng, p: number): boolean => rng() < p;
const between = (rng: Rng, low: number, high: number): number => low + Math.floor(rng() * (high - low + 1));

/** A name respelled: snake, kebab, camel, Pascal, upper snake, or each letter in a random case. */
export function respell(name: string, rng: Rng): string {
  const words = name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .split(/[\s_\-.]+/)
    .filter((word) => word !== '')
    .map((word) => word.toLowerCase());
  const cap = (word: string): string => word[0]!.toUpperCase() + word.slice(1);
  switch (between(rng, 0, 5)) {
    case 0:
      return words.join('_');
    case 1:
      return words.join('-');
    case 2:
      return words[0]! + words.slice(1).map(cap).join('');
    case 3:
      return words.map(cap).join('-');
    case 4:
      return words.join('_').toUpperCase();
    default:
      return [...name].map((char) => (rng() < 0.5 ? char.toUpperCase() : char.toLowerCase())).join('');
  }
}

/**
 * Well-known token shapes, of random characters (from the secrets' own random source: rotated
 * secrets are other tokens of the same kinds): secrets by their shape alone. `inPath`: only shapes
 * that fit in a path segment (no `:` or `/`).
 */
function shapedToken(rng: Rng, secrets: PlantedSecrets, place: string, inPath = false): string {
  const chars = (alphabet: string, length: number): string => Array.from({ length }, () => alphabet[Math.floor(secrets.rng() * alphabet.length)]).join('');
  const alnum = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  const url64 = `${alnum}-_`;
  const upper = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
  const makers: Array<[string, () => string]> = [
    ['JWT', () => `eyJ${chars(url64, 20)}.eyJ${chars(url64, 40)}.${chars(url64, 43)}`],
    ['AWS access key id', () => `${pick(rng, ['AKIA', 'ASIA'])}${chars(upper, 16)}`],
    ['Google API key', () => `AIza${chars(url64, 35)}`],
    ['Google OAuth token', () => `ya29.${chars(url64, 60)}`],
    ['GitHub token', () => `${pick(rng, ['ghp_', 'gho_', 'ghs_'])}${chars(alnum, 36)}`],
    ['GitHub fine-grained token', () => `github_pat_${chars(`${alnum}_`, 60)}`],
    ['GitLab token', () => `glpat-${chars(url64, 20)}`],
    ['Slack token', () => `xoxb-${chars('0123456789', 12)}-${chars(alnum, 24)}`],
    ['Stripe key', () => `${pick(rng, ['sk_live_', 'rk_live_', 'sk_test_'])}${chars(alnum, 24)}`],
    ['OpenAI key', () => `sk-proj-${chars(url64, 48)}`],
    ['npm token', () => `npm_${chars(alnum, 36)}`],
    ['SendGrid key', () => `SG.${chars(url64, 22)}.${chars(url64, 43)}`],
    ['Telegram bot token', () => `${chars('0123456789', 9)}:AA${chars(url64, 33)}`],
    ['Google refresh token', () => `1//0${chars(url64, 40)}`],
    ['Slack app token', () => `xapp-1-${chars(upper, 11)}-${chars(alnum, 24)}`],
    ['Stripe webhook secret', () => `whsec_${chars(alnum, 32)}`],
  ];
  const [kind, make] = pick(rng, inPath ? makers.filter(([name]) => name !== 'Telegram bot token') : makers);
  return secrets.register(`${place} (${kind})`, make());
}

/**
 * Secrets in a frame that is no secret (a webhook URL's host and path, the word Bearer, a PEM key's
 * armour): the random part is registered, the frame is not. `oneLine`: no line breaks (a header).
 */
function framedSecret(rng: Rng, secrets: PlantedSecrets, place: string, oneLine = false): string {
  // The secret's characters come from the secrets' random source, the frame's from the structure's.
  const chars = (alphabet: string, length: number): string => Array.from({ length }, () => alphabet[Math.floor(secrets.rng() * alphabet.length)]).join('');
  const frame = (alphabet: string, length: number): string => Array.from({ length }, () => alphabet[Math.floor(rng() * alphabet.length)]).join('');
  const alnum = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  const makers: Array<[string, () => string]> = [
    ['Slack webhook', () => `https://hooks.slack.com/services/T${frame('ABCDEFGHIJ0123456789', 8)}/B${frame('ABCDEFGHIJ0123456789', 8)}/${secrets.register(`${place} (Slack webhook)`, chars(alnum, 24))}`],
    ['Discord webhook', () => `https://discord.com/api/webhooks/${frame('0123456789', 18)}/${secrets.register(`${place} (Discord webhook)`, chars(`${alnum}_-`, 68))}`],
    ['Bearer credentials in a plain place', () => `Bearer ${secrets.plant(`${place} (Bearer credentials)`)}`],
    ['a URL with a password', () => `postgres://app:${secrets.plant(`${place} (URL user-info)`)}@db.internal:5432/app`],
    ...(oneLine ? [] : ([['PEM private key', () => `-----BEGIN PRIVATE KEY-----\n${secrets.plant(`${place} (PEM key line 1)`, 'base64')}\n${secrets.plant(`${place} (PEM key line 2)`, 'base64')}\n-----END PRIVATE KEY-----`]] as Array<[string, () => string]>)),
  ];
  return pick(rng, makers)[1]();
}

/** A JSON value with secrets at a random depth: under secret names (respelled), in arrays, as name/value pairs, as shaped tokens under plain names. */
function jsonWithSecrets(rng: Rng, secrets: PlantedSecrets, place: string, depth = 0): Record<string, unknown> {
  const object: Record<string, unknown> = { id: between(rng, 1, 9999), status: pick(rng, ['ok', 'pending', 'done']), token_type: 'bearer', expires_in: 3600 };
  const leaves = between(rng, 1, 3);
  for (let n = 0; n < leaves; n += 1) {
    const name = respell(pick(rng, FIELD_NAMES), rng);
    const value = chance(rng, 0.25) ? [secrets.plant(`${place}: JSON array under "${name}"`, pick(rng, ['base64', 'base64url', 'hex']))] : secrets.plant(`${place}: JSON "${name}"`, pick(rng, ['base64', 'base64url', 'hex']));
    object[name] = value;
  }
  // Secrets the structure alone reveals: a secret-named object with plain-named leaves, a name/value pair.
  object[respell(pick(rng, ['credentials', 'auth', 'secret']), rng)] = { user: 'bob', value: secrets.plant(`${place}: JSON leaf under a secret-named object`) };
  object.env = [{ name: respell(pick(rng, ['DB_PASSWORD', 'API_KEY', 'client_secret']), rng), value: secrets.plant(`${place}: JSON name/value pair`) }];
  object.note = `see ${shapedToken(rng, secrets, `${place}: JSON plain field`)}`;
  object.details = framedSecret(rng, secrets, `${place}: JSON plain field`);
  object[respell(pick(rng, ['pin', 'otp', 'cvv', 'password']), rng)] = Number(secrets.register(`${place}: JSON number under a secret name`, `${1 + Math.floor(secrets.rng() * 9)}${Array.from({ length: 14 }, () => Math.floor(secrets.rng() * 10)).join('')}`));
  // JSON in a string (a queued message, a log line): only the text rules see it.
  object.payload = JSON.stringify({ kind: 'event', [respell(pick(rng, ['auth', 'credentials', 'secret']), rng)]: { user: 'bob', value: secrets.plant(`${place}: JSON in a string, under a secret-named object`) } });
  object.links = { callback: `https://app.example.test/cb?${respell('access_token', rng)}=${encodeURIComponent(secrets.plant(`${place}: URL in a JSON string`, 'base64'))}&state=s1` };
  if (depth < between(rng, 0, 4)) {
    object.nested = chance(rng, 0.5) ? jsonWithSecrets(rng, secrets, place, depth + 1) : [{ kind: 'x' }, jsonWithSecrets(rng, secrets, place, depth + 1)];
  }
  return object;
}

/** A body, by kind, and the headers that go with it. */
interface PlannedBody {
  readonly kind: string;
  readonly headers: Record<string, string>;
  readonly body: Buffer;
}

const BODY_KINDS = ['json', 'json-bom', 'json-xssi', 'ndjson', 'sse', 'form', 'multipart', 'gzip', 'br', 'deflate', 'gzip-sniffed', 'xml', 'text'] as const;
// A body that claims gzip but is not (a client would fail on it as a response).
const REQUEST_BODY_KINDS = [...BODY_KINDS, 'gzip-corrupt'] as const;
const RESPONSE_BODY_KINDS = [...BODY_KINDS, 'binary'] as const;

function plannedBody(rng: Rng, secrets: PlantedSecrets, place: string, kind: string): PlannedBody {
  const json = (): string => JSON.stringify(jsonWithSecrets(rng, secrets, `${place} ${kind}`));
  switch (kind) {
    case 'json':
      return { kind, headers: { 'content-type': 'application/json' }, body: Buffer.from(json()) };
    case 'json-bom':
      return { kind, headers: { 'content-type': 'application/json; charset=utf-8' }, body: Buffer.from(`\uFEFF${json()}`) };
    case 'json-xssi':
      return { kind, headers: { 'content-type': 'application/json' }, body: Buffer.from(`)]}'\n${json()}`) };
    case 'ndjson':
      return { kind, headers: { 'content-type': 'application/x-ndjson' }, body: Buffer.from(`${json()}\n${json()}\n`) };
    case 'sse':
      return { kind, headers: { 'content-type': 'text/event-stream' }, body: Buffer.from(`event: token\nid: 1\ndata: ${json()}\n\ndata: ${json()}\n\n`) };
    case 'form': {
      // The OAuth token request, and more.
      const fields = [
        ['grant_type', 'authorization_code'],
        [respell('code', rng), secrets.plant(`${place} form: code`, 'base64')],
        [respell('code_verifier', rng), secrets.plant(`${place} form: code_verifier`)],
        ['client_id', 'app-1'],
        [respell('client_secret', rng), secrets.plant(`${place} form: client_secret`, 'base64')],
        [respell(pick(rng, ['refresh_token', 'password', 'assertion', 'client_assertion']), rng), secrets.plant(`${place} form: secret field`, 'punctuated')],
        ['redirect_uri', `https://app.example.test/cb?${respell('api_key', rng)}=${secrets.plant(`${place} form: URL in a field`)}`],
        ['note', shapedToken(rng, secrets, `${place} form: plain field`)],
      ];
      return { kind, headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: Buffer.from(fields.map(([name, value]) => `${encodeURIComponent(name!)}=${encodeURIComponent(value!)}`).join('&')) };
    }
    case 'multipart': {
      const boundary = `----mirrorguard${between(rng, 100000, 999999)}`;
      const parts = [
        `Content-Disposition: form-data; name="${respell(pick(rng, FIELD_NAMES), rng)}"\r\n\r\n${secrets.plant(`${place} multipart: secret-named part`, 'base64')}`,
        `Content-Disposition: form-data; name="${respell(pick(rng, ['code', 'key']), rng)}"\r\n\r\n${secrets.plant(`${place} multipart: code/key part`)}`,
        `Content-Disposition: form-data; name="profile"; filename="profile.json"\r\nContent-Type: application/json\r\n\r\n${json()}`,
        `Content-Disposition: form-data; name="comment"\r\n\r\nhello ${shapedToken(rng, secrets, `${place} multipart: plain part`)}`,
      ];
      return { kind, headers: { 'content-type': `multipart/form-data; boundary=${boundary}` }, body: Buffer.from(`${parts.map((part) => `--${boundary}\r\n${part}\r\n`).join('')}--${boundary}--\r\n`) };
    }
    case 'gzip':
      return { kind, headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' }, body: gzipSync(json()) };
    case 'br':
      return { kind, headers: { 'content-type': 'application/json', 'content-encoding': 'br' }, body: brotliCompressSync(json()) };
    case 'deflate':
      return { kind, headers: { 'content-type': 'application/json', 'content-encoding': 'deflate' }, body: deflateSync(json()) };
    case 'gzip-corrupt':
      return { kind, headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' }, body: Buffer.concat([Buffer.from([0x1f, 0x8b, 8, 0]), Buffer.from(json())]) };
    case 'gzip-sniffed':
      // A gzip file as the body itself (an upload, a download): no content-encoding says so.
      return { kind, headers: { 'content-type': 'application/gzip' }, body: gzipSync(json()) };
    case 'xml': {
      const tag = respell('password', rng);
      const xml = `<?xml version="1.0"?><Credentials><Username>bob</Username><${tag}>${secrets.plant(`${place} xml: password element`, 'base64')}</${tag}><SessionToken><![CDATA[${secrets.plant(`${place} xml: CDATA token`)}]]></SessionToken><Note>${shapedToken(rng, secrets, `${place} xml: plain element`)}</Note></Credentials>`;
      return { kind, headers: { 'content-type': 'application/xml' }, body: Buffer.from(xml) };
    }
    case 'text':
      return {
        kind,
        headers: { 'content-type': 'text/plain' },
        body: Buffer.from(
          [
            `${respell('password', rng)}=${secrets.plant(`${place} text: name=value`)}`,
            `Authorization: Bearer ${secrets.plant(`${place} text: header line`)}`,
            `config: {"${respell('api_key', rng)}": "${secrets.plant(`${place} text: JSON in text`, 'base64')}"}`,
            `${respell('refresh_token', rng).toLowerCase()}: ${secrets.plant(`${place} text: YAML entry`)}`,
            `log: ${shapedToken(rng, secrets, `${place} text: plain words`)} used`,
          ].join('\n'),
        ),
      };
    case 'binary': {
      const noise = Buffer.from(Array.from({ length: 64 }, () => Math.floor(rng() * 256)));
      return { kind, headers: { 'content-type': 'application/octet-stream' }, body: Buffer.concat([noise, Buffer.from(` ${shapedToken(rng, secrets, `${place} binary: shaped token in bytes`)} `), noise]) };
    }
    default:
      throw new Error(`no body kind ${kind}`);
  }
}

/** An Authorization value in one of the schemes services use. */
function authorization(rng: Rng, secrets: PlantedSecrets, place: string): string {
  const secret = (scheme: string): string => secrets.plant(`${place}: ${scheme}`, 'base64');
  return pick(rng, [
    () => `Bearer ${secret('Bearer')}`,
    () => `Basic ${Buffer.from(`bob:${secret('Basic password')}`).toString('base64')}`,
    () => `token ${secret('GitHub token scheme')}`,
    () => `Digest username="bob", realm="api", nonce="n1", uri="/", response="${secret('Digest response')}"`,
    () => `AWS4-HMAC-SHA256 Credential=${secret('SigV4 credential')}/20250101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=${secrets.plant(`${place}: SigV4 signature`, 'hex')}`,
    () => `SSWS ${secret('Okta SSWS')}`,
  ])();
}

export interface SecretCase {
  readonly id: number;
  readonly client: 'fetch' | 'node:http';
  readonly method: 'GET' | 'POST' | 'PUT';
  /** Path and query, after the origin. */
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly body?: Buffer;
  readonly bodyKind?: string;
  readonly response: { readonly status: number; readonly headers: ReadonlyArray<readonly [string, string]>; readonly body: Buffer; readonly bodyKind: string };
}

/**
 * `count` outbound calls with secrets planted everywhere, shaped by `structure` and filled from
 * `secrets`. `variant` adds a plain query parameter: the same calls, which no recording matches.
 */
export function secretCases(count: number, structure: Rng, secrets: PlantedSecrets, variant = false): SecretCase[] {
  return Array.from({ length: count }, (_, id): SecretCase => {
    const rng = structure;
    const place = `case ${id}`;
    const query: string[] = [`nonce=case${id}`];
    for (let n = between(rng, 1, 4); n > 0; n -= 1) {
      query.push(`${respell(pick(rng, QUERY_NAMES), rng)}=${encodeURIComponent(secrets.plant(`${place} query`, pick(rng, ['base64', 'base64url', 'hex'])))}`);
    }
    query.push(`q=${encodeURIComponent(shapedToken(rng, secrets, `${place} query plain parameter`))}`);
    query.push(`redirect_uri=${encodeURIComponent(`https://app.example.test/cb?${respell('access_token', rng)}=${secrets.plant(`${place} URL in a query value`, 'base64')}`)}`);
    // A URL encoded twice (a return address inside a return address).
    query.push(`state=${encodeURIComponent(encodeURIComponent(`https://app.example.test/cb?x=1&${respell('access_token', rng)}=${secrets.plant(`${place} URL encoded twice in a query value`)}`))}`);
    query.push(`${respell(pick(rng, QUERY_NAMES), rng)}=${encodeURIComponent(secrets.plant(`${place} query, punctuated`, 'punctuated'))}`);
    query.push(`hint=${encodeURIComponent(framedSecret(rng, secrets, `${place} query plain parameter`))}`);
    if (variant) query.push('variant=1');
    const pathKind = between(rng, 0, 3);
    const path =
      pathKind === 0
        ? `/v1/${pick(rng, ['tokens', 'api-keys', 'secrets', 'sessions', 'passwords'])}/${secrets.plant(`${place} URL path segment`)}/revoke`
        : pathKind === 1
          ? `/v1/files/${shapedToken(rng, secrets, `${place} URL path shaped token`, true)}`
          : pathKind === 2
            ? `/v1/cart;jsessionid=${secrets.plant(`${place} URL matrix parameter`, 'hex')}`
            : `/v1/items/${id}`;
    const headers: Record<string, string> = {
      'x-case': String(id),
      authorization: authorization(rng, secrets, `${place} Authorization`),
      cookie: `sid=${secrets.plant(`${place} cookie sid`)}; theme=dark; remember_token=${secrets.plant(`${place} cookie remember_token`)}`,
      referer: `https://app.example.test/${pick(rng, ['reset', 'tokens'])}/${secrets.plant(`${place} Referer path`)}?${respell('api_key', rng)}=${secrets.plant(`${place} Referer query`)}`,
      'x-debug-note': `seen ${shapedToken(rng, secrets, `${place} plain header`)}`,
      'x-debug-detail': framedSecret(rng, secrets, `${place} plain header`, true),
    };
    for (let n = between(rng, 1, 3); n > 0; n -= 1) {
      const name = pick(rng, HEADER_NAMES);
      headers[name] = name === 'proxy-authorization' ? authorization(rng, secrets, `${place} Proxy-Authorization`) : secrets.plant(`${place} header ${name}`, 'base64');
    }
    const method = pick(rng, ['GET', 'POST', 'PUT'] as const);
    const body = method === 'GET' ? undefined : plannedBody(rng, secrets, `${place} request`, pick(rng, REQUEST_BODY_KINDS));
    const responseBody = plannedBody(rng, secrets, `${place} response`, pick(rng, RESPONSE_BODY_KINDS));
    const responseHeaders: Array<[string, string]> = [
      ...Object.entries(responseBody.headers),
      ['set-cookie', `session=${secrets.plant(`${place} set-cookie session`)}; Path=/; HttpOnly; Secure`],
      ['set-cookie', `__Host-csrf=${secrets.plant(`${place} set-cookie csrf`)}; Path=/; SameSite=Strict`],
      ['location', `${pick(rng, ['https://auth.example.test', ''])}/v1/${pick(rng, ['tokens', 'keys', 'secrets'])}/${secrets.plant(`${place} Location path`)}?${respell(pick(rng, QUERY_NAMES), rng)}=${encodeURIComponent(secrets.plant(`${place} Location query`, 'base64'))}#access_token=${secrets.plant(`${place} Location fragment`)}`],
      [pick(rng, ['x-amz-security-token', 'x-auth-token', 'x-vault-token']), secrets.plant(`${place} response vendor header`)],
    ];
    return {
      id,
      client: chance(rng, 0.3) ? 'node:http' : 'fetch',
      method,
      path: `${path}?${query.join('&')}`,
      headers: { ...headers, ...body?.headers },
      ...(body !== undefined && { body: body.body, bodyKind: body.kind }),
      response: { status: pick(rng, [200, 201]), headers: responseHeaders, body: responseBody.body, bodyKind: responseBody.kind },
    };
  });
}
