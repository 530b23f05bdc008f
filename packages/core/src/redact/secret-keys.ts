/**
 * A name as the key rules see it: lower case, an `x-` prefix dropped, and every character but
 * letters and digits dropped, so that `api_key`, `apiKey`, `api-key`, `API.KEY` and `X-Api-Key`
 * are one name (`apikey`).
 */
export function normalizeKey(name: string): string {
  const lower = name.toLowerCase();
  return (lower.startsWith('x-') || lower.startsWith('x_') ? lower.slice(2) : lower).replace(/[^a-z0-9]/g, '');
}

/**
 * Names whose values are secret, wherever they appear: JSON fields at any depth, query parameters,
 * form fields and multipart parts, headers, `name=value` and `name: value` in text, XML elements.
 * Each is tested against the normalized name (see `normalizeKey`).
 */
export const DEFAULT_SECRET_KEYS: readonly RegExp[] = [
  // password, new_password, passwd, passphrase, passcode; `pass` and `pwd` alone (not bypass, compass).
  /passw(?:or)?d|passphrase|passcode|^pass$|^pwd$/,
  // client_secret, secretAccessKey, aws_secret_access_key, webhook_secret.
  /secret/,
  // access_token, refresh_token, id_token, x-amz-security-token, private-token, x-auth-token,
  // x-vault-token, csrf tokens (not max_tokens, prompt_tokens: counts).
  /token\d*$/,
  // api_key, apiKey, x-goog-api-key, api-key, private_key, ocp-apim-subscription-key (not the public
  // and bookkeeping keys below, nor `keys`: a JWKS holds public keys).
  /(?<!^|public|idempotency|primary|foreign|partition|sort|routing|cache|row|lookup|hot|mon|don|tur|hoc|joc|whis)key\d*$/,
  // authorization, proxy-authorization, auth, oauth, masterauth.
  /auth(?:orization)?$/,
  // cookie, set-cookie, cookies.
  /cookies?$/,
  // credentials, x-amz-credential, x-goog-credential.
  /credentials?$/,
  // x-amz-signature, x-goog-signature, x-hub-signature-256, CloudFront's Signature, Azure SAS `sig`.
  /signature\d*$|^sig$/,
  // session ids: sessionid, jsessionid, asp.net_sessionid, phpsessid, connect.sid, sid.
  /sessionid$|^(?:sid|sessid|phpsessid|connectsid)$/,
  // client_assertion (a signed JWT), SAMLResponse.
  /assertion$|^samlresponse$/,
  // one-time and card codes; PKCE's code_verifier.
  /^(?:otp|totp|mfacode|pin|cvv2?|cvc2?|codeverifier)$/,
];

/**
 * Names whose values are secret in URL queries, fragments and form bodies only: too common as JSON
 * fields (`{"code":"card_declined"}`, DynamoDB's `Key`) to hide there. `key`: Google's `?key=AIza…`;
 * `code`: an OAuth authorization code (callback URLs, the token request).
 */
export const DEFAULT_FORM_SECRET_KEYS: readonly RegExp[] = [/^(?:key|code)$/];

/** What a user names as secret: a name (matched normalized, like the defaults) or a pattern. */
export type SecretKey = string | RegExp;

/** Names tested often (headers, JSON fields) are decided once; the cache is bounded. */
const CACHE_LIMIT = 4096;

/**
 * A test of names against `keys`: strings compare normalized; a RegExp is tested against the
 * normalized name, and with `asWritten` (a user's pattern) against the name as written too.
 */
export function createKeyMatcher(keys: readonly SecretKey[], asWritten = false): (name: string) => boolean {
  const names = new Set<string>();
  const patterns: RegExp[] = [];
  for (const key of keys) {
    if (typeof key === 'string') names.add(normalizeKey(key));
    else patterns.push(new RegExp(key.source, key.flags.replace(/[gy]/g, '')));
  }
  const cache = new Map<string, boolean>();
  return (name) => {
    let secret = cache.get(name);
    if (secret !== undefined) return secret;
    const normalized = normalizeKey(name);
    secret = names.has(normalized) || patterns.some((pattern) => pattern.test(normalized) || (asWritten && pattern.test(name)));
    if (cache.size >= CACHE_LIMIT) cache.clear();
    cache.set(name, secret);
    return secret;
  };
}
