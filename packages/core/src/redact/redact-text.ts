import { isSecretPathSegment } from './redact-url.ts';
import { REDACTED, REDACTED_ENCODED, isRedacted, type RedactionRules } from './redaction-rules.ts';

/** A URL written in text; it ends where a quote, a space or an angle bracket does. */
const URL_IN_TEXT = /\b[a-z][a-z0-9+.-]*:\/\/[^\s"'<>\\^`{|}]+/gi;
/** `Name: value` at the start of a line: a header, a YAML entry. The value runs to the end of the line. */
const HEADER_LINE = /^([ \t]*)([A-Za-z][\w-]*)([ \t]*:[ \t]*)(\S[^\r\n]*)$/gm;
/**
 * A name and a separator: `name=`, `name: `, `"name":`, `'name' =`, and `name%3D` (an `=` percent-encoded,
 * once or more: a query inside an encoded URL, where a name follows an escape such as `%26`). What
 * follows is read by VALUE.
 */
const NAME_AND_SEPARATOR = /("(?:[^"\\\r\n]|\\.){1,200}"|'(?:[^'\\\r\n]|\\.){1,200}'|(?:(?<![\w$.\-[\]%])|(?<=%[0-9A-Fa-f]{2}))[A-Za-z_$][\w$.\-[\]]{0,199})(\s*[:=]\s*|(?:%25)*%3[Dd])/g;
/**
 * The value after a separator: the placeholder (quoted or not: first, so that `"[REDACTED]""x"` is not
 * read as one string with a doubled quote), a quoted string (SQL's doubled quotes too; cut short by
 * the end of the text, as in a truncated preview), or a word up to a delimiter.
 */
const VALUE = /\[REDACTED\]|%5BREDACTED%5D|"\[REDACTED\]"|'\[REDACTED\]'|"(?:[^"\\]|\\.|"")*(?:"|$)|'(?:[^'\\]|\\.|'')*(?:'|$)|[^\s&;,)#"'{}[\]<>]+/y;
/** The value after an encoded `=`: it ends at an encoded `&` as well. */
const ENCODED_VALUE = /%5BREDACTED%5D|(?:(?!(?:%25)*%26)[^\s&;,)#"'}\]<>])+/y;
/** An XML element holding text (or CDATA) only, with or without a namespace prefix. */
const XML_ELEMENT = /<((?:[A-Za-z_][\w.-]*:)?([A-Za-z_][\w.-]*))(\s[^<>]*)?>((?:<!\[CDATA\[[\s\S]*?\]\]>|[^<])+)<\/\1\s*>/g;
/** Redis: `AUTH [user] password` as a whole command line, and `HELLO 3 AUTH user password`. */
const REDIS_AUTH = /^(\s*auth\s+).+$/gim;
const REDIS_HELLO_AUTH = /(\bhello\s+\d+\s+auth\s+)(?!\[REDACTED\])\S+\s+\S+/gi;

/** Where the object or array opening at `start` closes (past its end), strings and escapes minded; the end of the text if it never does. */
function blockEnd(text: string, start: number): number {
  let depth = 0;
  for (let index = start; index < text.length; index += 1) {
    const char = text[index];
    if (char === '"') {
      for (index += 1; index < text.length && text[index] !== '"'; index += 1) if (text[index] === '\\') index += 1;
    } else if (char === '{' || char === '[') {
      depth += 1;
    } else if ((char === '}' || char === ']') && --depth === 0) {
      return index + 1;
    }
  }
  return text.length;
}

/** What every rule but the token shapes needs: `:` (URLs, headers, JSON), `=`, `<` (XML), `%3D`, `/` (paths), or Redis AUTH. */
const MAY_HOLD_NAMED_SECRET = /[:=<%/]|auth/i;

function unquote(name: string): string {
  return name.startsWith('"') || name.startsWith("'") ? name.slice(1, -1) : name;
}

/**
 * The values of secret names in `name=value` and `name: value` forms. The scan goes on inside the
 * values it leaves, so `{"note":"password=x"}` is caught as well as `password=x`.
 */
function redactAssignments(text: string, rules: RedactionRules): string {
  // Module-level patterns: nothing in the loop redacts again (no re-entry), so their state is this call's.
  const names = NAME_AND_SEPARATOR;
  names.lastIndex = 0;
  let result = '';
  let copied = 0;
  for (let match = names.exec(text); match !== null; match = names.exec(text)) {
    const [, rawName = '', separator = ''] = match;
    const encoded = separator.startsWith('%');
    const equals = encoded || separator.includes('=');
    const name = unquote(rawName);
    // `=` is a query's or a form's (where `key` and `code` are secret too); `:` is JSON's, a header's.
    if (!(equals ? rules.isFormSecretKey(name) : rules.isSecretKey(name))) continue;
    const start = names.lastIndex;
    // An object or array under a secret name (`"auth": {…}` in JSON written as text) goes whole.
    if (!encoded && (text[start] === '{' || (text[start] === '[' && !text.startsWith(REDACTED, start)))) {
      const end = blockEnd(text, start);
      result += `${text.slice(copied, start)}"${REDACTED}"`;
      copied = end;
      names.lastIndex = end;
      continue;
    }
    const value = encoded ? ENCODED_VALUE : VALUE;
    value.lastIndex = start;
    const found = value.exec(text)?.[0];
    if (found === undefined) continue;
    // A secret's value is passed over whether it is redacted now or was before: a second pass reads what the first did.
    if (isRedacted(found)) {
      names.lastIndex = value.lastIndex;
      continue;
    }
    const quote = found.startsWith('"') || found.startsWith("'") ? found[0]! : '';
    const closed = quote === '' || (found.length > 1 && found.endsWith(quote));
    // `user:7`, `token:abc` (a Redis key), `https://`: a bare name, a colon and no space is no assignment.
    if (!equals && quote === '' && rawName === name && !/\s$/.test(separator)) continue;
    // A JSON number under a quoted name becomes a string: the text stays JSON.
    const open = quote === '' && !equals && rawName !== name ? '"' : quote;
    result += `${text.slice(copied, names.lastIndex)}${open}${encoded ? REDACTED_ENCODED : REDACTED}${closed ? open : ''}`;
    copied = value.lastIndex;
    names.lastIndex = value.lastIndex;
  }
  return copied === 0 ? text : result + text.slice(copied);
}

/** Two segments of a path written in text (`/tokens/<secret>`), the second one looked at. */
const PATH_PAIR = /\/([\w.~%-]+)(?=\/([\w.~%-]{8,})(?:[/?#\s"'<>;,)\]]|$))/g;

/** Secret segments of paths that are no absolute URL (`POST /v1/tokens/<secret>`, a relative Location in a message). */
function redactPaths(text: string, rules: RedactionRules): string {
  let result = '';
  let copied = 0;
  for (const match of text.matchAll(PATH_PAIR)) {
    const [whole, previous = '', segment = ''] = match;
    const start = match.index + whole.length + 1;
    if (start < copied || !isSecretPathSegment(previous, segment, rules)) continue;
    result += `${text.slice(copied, start)}${REDACTED}`;
    copied = start + segment.length;
  }
  return copied === 0 ? text : result + text.slice(copied);
}

/**
 * The text rules, in order: URLs (see `redactUrl`), paths, secret header lines, assignments, XML elements,
 * Redis AUTH, and last the token shapes. Each pass runs only when the text holds what it looks for.
 */
export function redactText(text: string, rules: RedactionRules): string {
  // Most texts (a JSON string, a header, a path segment) hold nothing any rule but the shapes looks for.
  if (!MAY_HOLD_NAMED_SECRET.test(text)) return rules.values(text);
  let result = text;
  if (result.includes('://')) result = result.replace(URL_IN_TEXT, (url) => rules.url(url));
  if (result.includes('/')) result = redactPaths(result, rules);
  if (result.includes(':')) {
    result = result.replace(HEADER_LINE, (line: string, indent: string, name: string, separator: string, value: string) =>
      rules.isSecretKey(name) && !isRedacted(value) ? `${indent}${name}${separator}${REDACTED}` : line,
    );
  }
  if (result.includes('=') || result.includes(':') || result.includes('%3')) result = redactAssignments(result, rules);
  if (result.includes('</')) {
    result = result.replace(XML_ELEMENT, (element: string, tag: string, name: string, attributes: string | undefined, content: string) =>
      rules.isSecretKey(name) && !isRedacted(content) ? `<${tag}${attributes ?? ''}>${REDACTED}</${tag}>` : element,
    );
  }
  if (/auth/i.test(result)) result = result.replace(REDIS_AUTH, `$1${REDACTED}`).replace(REDIS_HELLO_AUTH, `$1${REDACTED}`);
  return rules.values(result);
}
