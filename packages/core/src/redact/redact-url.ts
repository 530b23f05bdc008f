import { REDACTED, REDACTED_ENCODED, isRedacted, type RedactionRules } from './redaction-rules.ts';
import { normalizeKey } from './secret-keys.ts';

/** A query value or name as it means, or undefined when its percent-encoding is broken. */
function decodeComponent(raw: string): string | undefined {
  if (!raw.includes('%') && !raw.includes('+')) return raw;
  try {
    return decodeURIComponent(raw.replace(/\+/g, ' '));
  } catch {
    return undefined;
  }
}

/** A value that is not secret by its name: the text rules see it decoded (a URL in a URL, a token's shape). */
function redactComponent(raw: string, rules: RedactionRules): string {
  const decoded = decodeComponent(raw);
  // Broken percent-encoding: the rules see it as written.
  if (decoded === undefined) return rules.text(raw);
  const redacted = rules.text(decoded);
  return redacted === decoded ? raw : encodeURIComponent(redacted);
}

/**
 * `name=value&…`: a query (without its `?`) or a form body. The value of a secret name is replaced;
 * other values go through the text rules, decoded. Names compare decoded and normalized, so
 * `API_KEY`, `Api-Key` and `api%5Fkey` are one name. Pairs keep their order and their encoding.
 */
export function redactQuery(query: string, rules: RedactionRules): string {
  if (query === '') return query;
  const pairs = query.split('&');
  let changed = false;
  for (let index = 0; index < pairs.length; index += 1) {
    const pair = pairs[index]!;
    const equals = pair.indexOf('=');
    let next: string;
    if (equals < 0) {
      next = redactComponent(pair, rules);
    } else {
      const rawName = pair.slice(0, equals);
      const rawValue = pair.slice(equals + 1);
      const name = decodeComponent(rawName) ?? rawName;
      if (rules.isFormSecretKey(name)) next = rawValue === '' || isRedacted(rawValue) ? pair : `${rawName}=${REDACTED}`;
      else next = `${rawName}=${redactComponent(rawValue, rules)}`;
    }
    if (next !== pair) {
      pairs[index] = next;
      changed = true;
    }
  }
  return changed ? pairs.join('&') : query;
}

/** `user:password@` → `user:[REDACTED]@`; a lone user name (often a token: `https://<token>@host`) is hidden too. */
function redactAuthority(authority: string): string {
  const at = authority.lastIndexOf('@');
  if (at <= 0) return authority;
  const userinfo = authority.slice(0, at);
  const colon = userinfo.indexOf(':');
  if (colon < 0) return isRedacted(userinfo) ? authority : `${REDACTED}${authority.slice(at)}`;
  const password = userinfo.slice(colon + 1);
  return password === '' || isRedacted(password) ? authority : `${userinfo.slice(0, colon + 1)}${REDACTED}${authority.slice(at)}`;
}

/** A path segment that reads as a secret, not a word or a number: `/tokens/refresh` stays, `/tokens/k3Y…` goes. */
function looksSecret(segment: string): boolean {
  if (segment.length < 8 || /^\d+$/.test(segment)) return false;
  return segment.length >= 20 || /[0-9\-._~%]|[A-Za-z0-9][A-Z]/.test(segment);
}

/**
 * Path segments after which a secret-looking segment is a secret: a link's one-time token
 * (`/reset/<token>`, `/invite/<token>`), a webhook's (`/hooks/<token>`), a session's.
 */
const SECRET_PATH_ACTIONS = new Set(['session', 'reset', 'resetpassword', 'passwordreset', 'verify', 'verification', 'confirm', 'confirmation', 'invite', 'invitation', 'activate', 'activation', 'unsubscribe', 'magic', 'magiclink', 'hook', 'webhook']);

/** What a segment naming a collection of secrets ends with (a folder `my-secrets-2024` names none). */
const SECRET_COLLECTION = /(?:token|key|secret|password|passwd|credential|cookie|signature|sig|otp|pin|code|assertion|auth|authorization)s?$/;

/**
 * A path segment naming a collection of secrets (`tokens`, `api-keys`, `client-secrets`, `keys`,
 * `passwords`: a secret name ending in one of SECRET_COLLECTION's words) or an action on one
 * (SECRET_PATH_ACTIONS).
 */
function namesSecrets(segment: string, rules: RedactionRules): boolean {
  // A matrix parameter (`/reset;jsessionid=…/<token>`) is not part of the name a router matches.
  const bare = segment.split(';')[0]!;
  const name = normalizeKey(decodeComponent(bare) ?? bare);
  if (name === '') return false;
  const singular = name.endsWith('s') ? name.slice(0, -1) : name;
  if (SECRET_PATH_ACTIONS.has(singular) || SECRET_PATH_ACTIONS.has(name)) return true;
  return SECRET_COLLECTION.test(name) && (rules.isFormSecretKey(singular) || rules.isFormSecretKey(name));
}

const holdsRedaction = (segment: string): boolean => segment.includes(REDACTED) || segment.includes(REDACTED_ENCODED);

/** Whether `segment`, after `previous` in a path, is a secret: `/tokens/<secret>`, `/reset/<token>`. */
export const isSecretPathSegment = (previous: string, segment: string, rules: RedactionRules): boolean =>
  looksSecret(segment) && !holdsRedaction(segment) && namesSecrets(previous, rules);

/** A segment a router resolves away: `.`, `..` (also percent-encoded, as WHATWG URL reads them), or empty. */
function dotSegment(segment: string): '.' | '..' | undefined {
  if (segment === '') return '.';
  const decoded = (decodeComponent(segment) ?? segment).toLowerCase();
  return decoded === '.' ? '.' : decoded === '..' ? '..' : undefined;
}

/**
 * A path with its secret segments replaced. Which segment names a collection is read on the path
 * as a router resolves it — a backslash is a separator to WHATWG URL, and `.`, `%2e`, `..` and
 * empty segments are resolved away — so that `/reset/./<token>` and `/reset\<token>` hide the token as
 * `/reset/<token>` does; the separators and segments are kept as written.
 */
function redactPath(path: string, rules: RedactionRules): string {
  if (path === '' || path === '/') return path;
  // Segments at even indexes, their separators between them.
  const parts = path.split(/([/\\])/);
  /** The segments still in the resolved path, for the one before the next. */
  const resolved: string[] = [parts[0]!];
  let changed = false;
  for (let index = 2; index < parts.length; index += 2) {
    const segment = parts[index]!;
    const dot = dotSegment(segment);
    if (dot === '.') continue;
    if (dot === '..') {
      if (resolved.length > 1) resolved.pop();
      continue;
    }
    let next = segment;
    // (A segment redacted in part already is done: replacing it whole now would make a second pass differ from the first.)
    if (isSecretPathSegment(resolved.at(-1)!, segment, rules)) next = REDACTED;
    // Matrix parameters (`;jsessionid=…`) and token shapes, as written.
    else next = rules.text(segment);
    if (next !== segment) {
      parts[index] = next;
      changed = true;
    }
    resolved.push(segment);
  }
  return changed ? parts.join('') : path;
}

const SCHEME = /^[a-z][a-z0-9+.-]*:\/\//i;

/**
 * A URL (absolute, protocol-relative or a path, as in `Location`) with its secrets replaced: the
 * user-info, the values of secret query parameters, a secret segment after a segment naming a
 * collection of secrets (`/tokens/<secret>`), and anything the text rules find in the other query
 * values (decoded: a URL in a URL), the path and the fragment (`#access_token=…`). The rest is kept
 * as written.
 */
export function redactUrl(url: string, rules: RedactionRules): string {
  const hash = url.indexOf('#');
  const beforeHash = hash < 0 ? url : url.slice(0, hash);
  const question = beforeHash.indexOf('?');
  const head = question < 0 ? beforeHash : beforeHash.slice(0, question);
  let prefix = '';
  let path = head;
  const scheme = SCHEME.exec(head)?.[0] ?? (head.startsWith('//') ? '//' : undefined);
  if (scheme !== undefined) {
    const rest = head.slice(scheme.length);
    // WHATWG URLs end the authority at a backslash too.
    const end = rest.search(/[/\\]/);
    prefix = scheme + redactAuthority(end < 0 ? rest : rest.slice(0, end));
    path = end < 0 ? '' : rest.slice(end);
  }
  let result = prefix + redactPath(path, rules);
  if (question >= 0) result += `?${redactQuery(beforeHash.slice(question + 1), rules)}`;
  if (hash >= 0) result += `#${rules.text(url.slice(hash + 1))}`;
  // Shapes that span parts (a webhook's path after its host).
  result = rules.values(result);
  return result === url ? url : result;
}
