/**
 * Values secret by their shape alone, wherever they appear (a JSON string, a path segment, a header,
 * a text body, the bytes of a binary body): well-known token formats. Each match is replaced.
 */
export const DEFAULT_SECRET_VALUES: readonly RegExp[] = [
  // JWT (JWS: three parts) and JWE (five).
  /\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}(?:\.[A-Za-z0-9_-]*){1,3}/g,
  // AWS access key ids (long-lived AKIA, temporary ASIA, and the other principal prefixes).
  /\b(?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AIPA|ANPA|ANVA|AROA|APKA|ASCA)[A-Z0-9]{16}\b/g,
  // Google API keys, OAuth access and refresh tokens.
  /\bAIza[0-9A-Za-z_-]{35}/g,
  /\bya29\.[0-9A-Za-z_-]{20,}/g,
  /\b1\/\/0[0-9A-Za-z_-]{30,}/g,
  // GitHub (classic and fine-grained), GitLab, npm.
  /\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,})/g,
  /\bglpat-[A-Za-z0-9_-]{20,}/g,
  /\bnpm_[A-Za-z0-9]{36}\b/g,
  // Slack tokens and incoming webhooks; Discord webhooks.
  /\bxox[abposr]-[A-Za-z0-9-]{10,}/g,
  /\bxapp-\d-[A-Za-z0-9-]{10,}/g,
  /(?<=hooks\.slack\.com\/services\/)[A-Za-z0-9_/]{20,}/g,
  /(?<=discord(?:app)?\.com\/api\/webhooks\/\d+\/)[A-Za-z0-9_-]{20,}/g,
  // Stripe secret and restricted keys, webhook secrets.
  /\b(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{10,}/g,
  /\bwhsec_[A-Za-z0-9+/=]{10,}/g,
  // OpenAI and Anthropic keys, SendGrid, Telegram bot tokens.
  /\bsk-(?:proj-|ant-(?:api\d+-)?)?[A-Za-z0-9_-]{20,}/g,
  /\bSG\.[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{16,}/g,
  /\b\d{8,10}:AA[A-Za-z0-9_-]{33}(?![A-Za-z0-9_-])/g,
  // The credentials of the Bearer and Basic schemes, wherever they are written (8 characters or
  // more, with a digit, a symbol or a capital past the first: not the prose "Basic authentication").
  /(?<=\b(?:[Bb]earer|BEARER|[Bb]asic|BASIC)\s+)(?=[A-Za-z0-9\-._~+/]*?(?:[0-9\-._~+/]|[A-Za-z0-9][A-Z]))[A-Za-z0-9\-._~+/]{8,}=*/g,
  // PEM private keys (to the end of the text when the end line is missing).
  /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)/g,
];

/**
 * What every default pattern starts with or holds: a text without any of it skips the defaults (most
 * texts: scanning them all costs ten times more). Each default pattern must be covered here; the
 * tests check it on a sample of each.
 */
export const DEFAULT_SECRET_VALUES_HINT: RegExp =
  /eyJ|A3T|AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AIPA|ANPA|ANVA|AROA|APKA|ASCA|AIza|ya29\.|1\/\/0|gh[pousr]_|github_pat_|glpat-|npm_|xox|xapp-|slack\.com|discord|[sr]k_|whsec_|sk-|SG\.|:AA|earer|EARER|asic|ASIC|PRIVATE KEY/;

/**
 * Replaces every match of `patterns` in a text with `placeholder`. Patterns without flags of their
 * own are joined into one, so that a text is scanned once however many there are. With `hint`, a
 * text it does not match is returned as it is.
 */
export function createValueRedactor(patterns: readonly RegExp[], placeholder: string, hint?: RegExp): (text: string) => string {
  const plain = patterns.filter((pattern) => pattern.flags.replace(/[gy]/g, '') === '');
  const combined = plain.length === 0 ? undefined : new RegExp(plain.map((pattern) => `(?:${pattern.source})`).join('|'), 'g');
  const separate = patterns.filter((pattern) => !plain.includes(pattern)).map((pattern) => new RegExp(pattern.source, `${pattern.flags.replace(/[gy]/g, '')}g`));
  return (text) => {
    if (hint !== undefined && !hint.test(text)) return text;
    let result = combined === undefined ? text : text.replace(combined, placeholder);
    for (const pattern of separate) result = result.replace(pattern, placeholder);
    return result;
  };
}
