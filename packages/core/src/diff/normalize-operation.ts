/** A user's pass over an operation's text before comparison (to blank a volatile value of their own). */
export type OperationNormalizer = (operation: string) => string;

// Values that differ between two runs of the same request by nature, not by behaviour.
const VOLATILE: ReadonlyArray<readonly [RegExp, string]> = [
  [/\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})?\b/g, '<time>'],
  [/\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/gi, '<uuid>'],
  [/\b[0-9a-f]{24,}\b/gi, '<hex>'],
  // Epoch times in milliseconds and snowflake ids (a mirror's simulated insert ids are matched apart).
  [/\b\d{13,}\b/g, '<n>'],
];

/** The operation with volatile values (timestamps, UUIDs, long hex ids, epoch times and generated ids) blanked. */
export function normalizeOperation(operation: string, normalizers: readonly OperationNormalizer[] = []): string {
  let text = operation;
  for (const [pattern, replacement] of VOLATILE) text = text.replace(pattern, replacement);
  for (const normalize of normalizers) text = normalize(text);
  return text;
}

/** The operation's shape: every literal (quoted strings, numbers) replaced, so the same statement with other values shares it. */
export function operationShape(operation: string): string {
  return operation
    .replace(/'(?:[^'\\]|\\.|'')*'|"(?:[^"\\]|\\.)*"/g, '?')
    .replace(/\b\d+(?:\.\d+)?\b/g, '?')
    .replace(/\s+/g, ' ')
    .trim();
}

const LITERAL = /'(?:[^'\\]|\\.|'')*'|"(?:[^"\\]|\\.)*"|\b\d+(?:\.\d+)?\b/g;

/** The first id a mirror's simulated INSERT answers with (db-readonly's default), and every one after it. */
export const FIRST_SIMULATED_ID = 2_000_000_000;

/**
 * Whether two operations of one shape differ only where the mirror used an id it generated itself
 * (a simulated insert id, 2,000,000,000 and up) in place of the id the primary's database gave.
 */
export function differOnlyInGeneratedIds(primary: string, mirror: string): boolean {
  const left = primary.match(LITERAL) ?? [];
  const right = mirror.match(LITERAL) ?? [];
  if (left.length !== right.length) return false;
  return left.every((value, index) => value === right[index] || Number(right[index]) >= FIRST_SIMULATED_ID);
}
