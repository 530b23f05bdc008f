import { redactJson } from './redact-json.ts';
import { redactText } from './redact-text.ts';
import { redactQuery, redactUrl } from './redact-url.ts';
import { REDACTED, isRedacted, type RedactionRules } from './redaction-rules.ts';
import { createKeyMatcher, DEFAULT_FORM_SECRET_KEYS, DEFAULT_SECRET_KEYS, type SecretKey } from './secret-keys.ts';
import { createValueRedactor, DEFAULT_SECRET_VALUES, DEFAULT_SECRET_VALUES_HINT } from './secret-values.ts';

export interface RedactOptions {
  /**
   * More names whose values are secret, besides the defaults. A string matches names case- and
   * separator-insensitively (`api_key` also hides `apiKey`, `API-KEY`, `X-Api-Key`); a RegExp is
   * tested against the name as written and normalized (lower case, letters and digits only).
   */
  readonly keys?: readonly SecretKey[];
  /** More value patterns (your own token formats): every match is replaced, wherever it appears. */
  readonly values?: readonly RegExp[];
  /**
   * `false` drops the default names and patterns (`DEFAULT_SECRET_KEYS`, `DEFAULT_FORM_SECRET_KEYS`,
   * `DEFAULT_SECRET_VALUES`): only `keys` and `values` apply. Spread the exported defaults into them
   * to keep some. Default `true`.
   */
  readonly defaults?: boolean;
  /** A last pass of your own over every redacted text (operations, string values, messages). */
  readonly custom?: (text: string) => string;
}

/**
 * Hides secrets. Called as a function, it redacts free text (a journaled operation, an error message);
 * its methods redact the parts of structured data the same way, for the recordings.
 */
export interface Redactor {
  (text: string): string;
  /** Free text: URLs in it, `name=value` and `name: value` of secret names, header lines, XML elements, token shapes. */
  readonly text: (text: string) => string;
  /** A URL, absolute or relative (a `Location`). */
  readonly url: (url: string) => string;
  /** An `application/x-www-form-urlencoded` body, or a query without its `?`. */
  readonly form: (form: string) => string;
  /** A header's value: all of it when the name is secret; the names of cookies are kept. */
  readonly header: (name: string, value: string) => string;
  /** A parsed JSON value, the same value back when nothing was secret. */
  readonly json: (value: unknown) => unknown;
  /** Whether a name (a header, a field, a parameter) holds a secret. */
  readonly isSecretKey: (name: string) => boolean;
  /** Whether a name in a query or a form holds a secret (`isSecretKey`, and `key`, `code`). */
  readonly isFormSecretKey: (name: string) => boolean;
}

/** Headers whose values are URLs (relative ones too). */
const URL_HEADERS = new Set(['location', 'content-location', 'referer', 'origin']);

/** `a=1; b=2` → `a=[REDACTED]; b=[REDACTED]`; a set-cookie's attributes (after the first pair) are kept. */
function redactCookie(name: string, value: string): string {
  const pairs = value.split(';');
  const hideAll = name === 'cookie';
  return pairs
    .map((pair, index) => {
      if (!hideAll && index > 0) return pair;
      const equals = pair.indexOf('=');
      if (equals < 0) return hideAll || index === 0 ? (pair.trim() === '' || isRedacted(pair.trim()) ? pair : REDACTED) : pair;
      const cookieValue = pair.slice(equals + 1);
      return cookieValue === '' || isRedacted(cookieValue) ? pair : `${pair.slice(0, equals)}=${REDACTED}`;
    })
    .join(';');
}

/**
 * `redact` repeated until it changes nothing (at most four times). One pass can reveal what another
 * pass would take (a token's shape gone, a name reads differently): stopping at the fixed point makes
 * redacting a redacted text change nothing, which replay's matching relies on. A text without secrets
 * takes one pass.
 */
function untilSettled(redact: (text: string) => string): (text: string) => string {
  return (text) => {
    let current = text;
    for (let pass = 0; pass < 4; pass += 1) {
      const next = redact(current);
      if (next === current) return current;
      current = next;
    }
    return current;
  };
}

/**
 * One redactor for every place a secret could be kept: the journal's operations, the HTTP stub's
 * recordings (HAR files, the shared Redis store) and the errors that quote a request. By default it
 * hides the values of secret names (`DEFAULT_SECRET_KEYS`: passwords, secrets, tokens, API and private
 * keys, authorization, cookies, credentials, signatures, session ids, assertions, one-time codes;
 * `key` and `code` in queries and forms), URL user-info, secret path segments (`/tokens/<secret>`),
 * Redis AUTH, and well-known token shapes (`DEFAULT_SECRET_VALUES`: JWTs, AWS key ids, Google, GitHub,
 * GitLab, Slack, Stripe, OpenAI/Anthropic, SendGrid, npm, Telegram, Bearer and Basic credentials,
 * PEM private keys). Redacting twice changes nothing more than redacting once.
 */
export function createRedactor(options: RedactOptions = {}): Redactor {
  const defaults = options.defaults !== false;
  const isDefaultKey = createKeyMatcher(defaults ? DEFAULT_SECRET_KEYS : []);
  const isUserKey = createKeyMatcher(options.keys ?? [], true);
  const isSecretKey = (name: string): boolean => isDefaultKey(name) || isUserKey(name);
  const isFormOnly = createKeyMatcher(defaults ? DEFAULT_FORM_SECRET_KEYS : []);
  const isFormSecretKey = (name: string): boolean => isSecretKey(name) || isFormOnly(name);
  const defaultValues = defaults ? createValueRedactor(DEFAULT_SECRET_VALUES, REDACTED, DEFAULT_SECRET_VALUES_HINT) : (text: string) => text;
  const userValues = options.values === undefined || options.values.length === 0 ? undefined : createValueRedactor(options.values, REDACTED);
  const values = userValues === undefined ? defaultValues : (text: string) => userValues(defaultValues(text));
  const custom = options.custom;
  const rules: RedactionRules = {
    isSecretKey,
    isFormSecretKey,
    values,
    text: untilSettled(custom === undefined ? (text) => redactText(text, rules) : (text) => custom(redactText(text, rules))),
    url: untilSettled((url) => redactUrl(url, rules)),
  };
  const header = (name: string, value: string): string => {
    const lower = name.toLowerCase();
    if (isSecretKey(lower)) return lower === 'cookie' || lower === 'set-cookie' ? redactCookie(lower, value) : isRedacted(value) ? value : REDACTED;
    return URL_HEADERS.has(lower) ? rules.url(value) : rules.text(value);
  };
  const redactor = Object.assign((text: string) => rules.text(text), {
    text: rules.text,
    url: rules.url,
    form: untilSettled((form: string) => redactQuery(form, rules)),
    header,
    json: (value: unknown) => redactJson(value, rules),
    isSecretKey,
    isFormSecretKey,
  });
  return Object.freeze(redactor);
}

/** Whether a value is a redactor already (to share one), rather than options to build one. */
export const isRedactor = (value: RedactOptions | Redactor | undefined): value is Redactor => typeof value === 'function';
