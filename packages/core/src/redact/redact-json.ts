import { REDACTED, type RedactionRules } from './redaction-rules.ts';

/** Deeper than this, a JSON value is hidden whole: walking it could exhaust the stack. */
const MAX_DEPTH = 500;

const isPlainObject = (value: unknown): value is Record<string, unknown> => {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const prototype = Object.getPrototypeOf(value) as unknown;
  return prototype === Object.prototype || prototype === null;
};

/** `{ "name": "password", "value": "…" }` (HAR, env lists, Kubernetes): the value of a secret-named pair. */
function pairNamesSecret(object: Record<string, unknown>, rules: RedactionRules): boolean {
  if (!('value' in object)) return false;
  const name = object.name ?? object.key ?? object.Name ?? object.Key;
  return typeof name === 'string' && rules.isSecretKey(name);
}

function walk(value: unknown, secret: boolean, depth: number, rules: RedactionRules): unknown {
  if (typeof value === 'string') return secret ? (value === REDACTED ? value : REDACTED) : rules.text(value);
  if (value === null || typeof value === 'boolean' || typeof value === 'undefined') return value;
  if (depth > MAX_DEPTH) return REDACTED;
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    for (let index = 0; index < value.length; index += 1) {
      const item: unknown = value[index];
      const next = walk(item, secret, depth + 1, rules);
      if (next !== item) (copy ??= [...value])[index] = next;
    }
    return copy ?? value;
  }
  if (isPlainObject(value)) {
    const pairSecret = !secret && pairNamesSecret(value, rules);
    let entries: Array<[string, unknown]> | undefined;
    const keys = Object.keys(value);
    for (let index = 0; index < keys.length; index += 1) {
      const key = keys[index]!;
      const inner = value[key];
      const next = walk(inner, secret || rules.isSecretKey(key) || (pairSecret && key === 'value'), depth + 1, rules);
      if (next !== inner) (entries ??= keys.map((name) => [name, value[name]]))[index] = [key, next];
    }
    // fromEntries defines each key as data (a `__proto__` key stays a key).
    return entries === undefined ? value : Object.fromEntries(entries);
  }
  // A number (or a number kept as its source text by a parser's class): secret under a secret name.
  return secret ? REDACTED : value;
}

/**
 * A parsed JSON value with its secrets replaced: every value under a secret name, at any depth, in
 * objects and arrays (a secret object or array keeps its shape, its leaves replaced; booleans and
 * null are kept); and the text rules over every other string. Returns `value` itself when nothing was
 * replaced. Objects other than plain ones are leaves (a parser's exact-number class).
 */
export function redactJson(value: unknown, rules: RedactionRules): unknown {
  return walk(value, false, 0, rules);
}
