/** A JSON number kept as its text: integers past 2^53 and long decimals survive untouched. */
class ExactNumber {
  readonly text: string;

  constructor(text: string) {
    this.text = text;
  }
}

type Reviver = (key: string, value: unknown, context?: { source?: string }) => unknown;

/** JSON.parse, keeping every number's source text (Node 22+ hands revivers the source). */
export function parseExactJson(text: string): unknown {
  const reviver: Reviver = (_key, value, context) => (typeof value === 'number' && context?.source !== undefined ? new ExactNumber(context.source) : value);
  return JSON.parse(text, reviver as Parameters<typeof JSON.parse>[1]);
}

/** JSON text of a value from parseExactJson; `sortKeys` orders object keys at every depth (canonical form). */
export function stringifyExactJson(value: unknown, sortKeys = false): string {
  if (value instanceof ExactNumber) return value.text;
  if (Array.isArray(value)) return `[${value.map((item) => stringifyExactJson(item, sortKeys)).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const keys = Object.keys(value);
    if (sortKeys) keys.sort();
    return `{${keys.map((key) => `${JSON.stringify(key)}:${stringifyExactJson((value as Record<string, unknown>)[key], sortKeys)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
