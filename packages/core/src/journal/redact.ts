/** What replaces a secret in journaled text and recordings. */
export const REDACTED = '[REDACTED]';

export interface RedactOptions {
  /** More names whose values are secret, besides the defaults (password, secret, token, api key, …). Case-insensitive. */
  readonly keys?: readonly string[];
  /** A last pass of your own over the already-redacted text. */
  readonly custom?: (operation: string) => string;
}

export type Redactor = (operation: string) => string;

const DEFAULT_KEYS = [
  'pass(?:word|wd)?',
  'secret',
  '[a-z_-]*token',
  'api[_-]?key',
  'access[_-]?key',
  'private[_-]?key',
  'client[_-]?secret',
  'credentials?',
  'session[_-]?id',
];
const SECRET_HEADERS = 'authorization|proxy-authorization|cookie|set-cookie|x-api-key';

function escapeKey(key: string): string {
  return key.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Builds a redactor for operation text. It hides, by default: URL user-info passwords, secret HTTP
 * headers, bearer tokens, Redis AUTH arguments, and the values of secret-looking keys in JSON
 * (`"password":"…"`), query strings and forms (`token=…`) and SQL (`password = '…'`).
 */
export function createRedactor(options: RedactOptions = {}): Redactor {
  const keys = [...DEFAULT_KEYS, ...(options.keys ?? []).map(escapeKey)].join('|');
  const json = new RegExp(`("(?:${keys})"\\s*:\\s*)(?:"(?:[^"\\\\]|\\\\.)*"|[^,}\\]\\s]+)`, 'gi');
  const assignment = new RegExp(
    `(\\b(?:${keys})\\s*=\\s*)(?:'(?:[^'\\\\]|\\\\.|'')*'|"(?:[^"\\\\]|\\\\.|"")*"|[^\\s&;,)#]+)`,
    'gi',
  );
  // What every rule needs to match at all (a URL's "://", a quote, "=", or one of the words), so
  // that text holding none of it — most operations — skips the rules.
  const mayHoldSecret = new RegExp(`://|["=]|bearer|auth|cookie|x-api-key`, 'i');
  const rules: Array<[RegExp, string]> = [
    [/(\b[a-z][a-z0-9+.-]*:\/\/[^/\s:@]+:)[^/\s@]+@/gi, `$1${REDACTED}@`],
    [new RegExp(`(\\b(?:${SECRET_HEADERS})\\s*:\\s*)[^\\r\\n]*`, 'gi'), `$1${REDACTED}`],
    [/(\bbearer\s+)[a-z0-9\-._~+/]+=*/gi, `$1${REDACTED}`],
    [/^(\s*auth\s+).+$/gim, `$1${REDACTED}`],
    [/(\bhello\s+\d+\s+auth\s+)\S+\s+\S+/gi, `$1${REDACTED}`],
    [json, `$1"${REDACTED}"`],
    [assignment, `$1${REDACTED}`],
  ];
  const custom = options.custom;
  return (operation) => {
    let text = operation;
    if (mayHoldSecret.test(text)) for (const [pattern, replacement] of rules) text = text.replace(pattern, replacement);
    return custom === undefined ? text : custom(text);
  };
}
