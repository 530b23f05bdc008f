/** What replaces a secret in journaled text, recordings and error messages. */
export const REDACTED = '[REDACTED]';

/** REDACTED as an encoded URL component writes it. */
export const REDACTED_ENCODED = '%5BREDACTED%5D';

/** Whether a value is the placeholder already (as written, quoted, or percent-encoded): redaction leaves it. */
export const isRedacted = (value: string): boolean => value === REDACTED || value === REDACTED_ENCODED || value === `"${REDACTED}"` || value === `'${REDACTED}'`;

/** The rules each redaction pass uses; `createRedactor` wires them together. */
export interface RedactionRules {
  /** A name whose value is secret wherever it appears. */
  readonly isSecretKey: (name: string) => boolean;
  /** A name whose value is secret in a query, a fragment or a form (the above, and `key`, `code`). */
  readonly isFormSecretKey: (name: string) => boolean;
  /** Replaces the well-known token shapes in a text. */
  readonly values: (text: string) => string;
  /** Every text rule (URLs, assignments, header lines, XML elements, token shapes). */
  readonly text: (text: string) => string;
  /** A URL, absolute or relative. */
  readonly url: (url: string) => string;
}
