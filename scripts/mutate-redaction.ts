// Mutation check of the secrets guarantees (issue 13, class 3): removes one redaction line at a time,
// runs the tests that should notice, and restores the file. Every mutation must be killed; the table
// says by which tests ("secrets" is the generative test with its oracle).
// Run: node scripts/mutate-redaction.ts [name filter …]   (about 15 minutes for all)
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const TESTS = [
  'packages/core/src/redact',
  'packages/core/src/journal',
  'packages/http-stub/src/exchange',
  'packages/http-stub/src/store',
  'packages/http-stub/src/stub',
  'test/http-stub/secrets.test.ts',
  'test/http-stub/recording-file.test.ts',
  'test/http-stub/record-replay.test.ts',
  'test/http-stub/regressions.test.ts',
  'test/http-stub/edge-cases.test.ts',
];

/** [what the line does, file, the line as it is, what it becomes]. */
const MUTATIONS: ReadonlyArray<readonly [string, string, string, string]> = [
  ["key: password", "packages/core/src/redact/secret-keys.ts", "  /passw(?:or)?d|passphrase|passcode|^pass$|^pwd$/,", "  /(?!)/,"],
  ["key: secret", "packages/core/src/redact/secret-keys.ts", "  /secret/,", "  /(?!)/,"],
  ["key: token", "packages/core/src/redact/secret-keys.ts", "  /token\\d*$/,", "  /(?!)/,"],
  ["key: *key", "packages/core/src/redact/secret-keys.ts", "  /(?<!^|public|idempotency|primary|foreign|partition|sort|routing|cache|row|lookup|hot|mon|don|tur|hoc|joc|whis)key\\d*$/,", "  /(?!)/,"],
  ["key: auth/authorization", "packages/core/src/redact/secret-keys.ts", "  /auth(?:orization)?$/,", "  /(?!)/,"],
  ["key: cookie", "packages/core/src/redact/secret-keys.ts", "  /cookies?$/,", "  /(?!)/,"],
  ["key: credential", "packages/core/src/redact/secret-keys.ts", "  /credentials?$/,", "  /(?!)/,"],
  ["key: signature/sig", "packages/core/src/redact/secret-keys.ts", "  /signature\\d*$|^sig$/,", "  /(?!)/,"],
  ["key: session id", "packages/core/src/redact/secret-keys.ts", "  /sessionid$|^(?:sid|sessid|phpsessid|connectsid)$/,", "  /(?!)/,"],
  ["key: assertion", "packages/core/src/redact/secret-keys.ts", "  /assertion$|^samlresponse$/,", "  /(?!)/,"],
  ["key: otp/pin/cvv/code_verifier", "packages/core/src/redact/secret-keys.ts", "  /^(?:otp|totp|mfacode|pin|cvv2?|cvc2?|codeverifier)$/,", "  /(?!)/,"],
  ["key: form-only key/code", "packages/core/src/redact/secret-keys.ts", "[/^(?:key|code)$/]", "[/(?!)/]"],
  ["key names: normalization (case, separators, x-)", "packages/core/src/redact/secret-keys.ts", "return (lower.startsWith('x-') || lower.startsWith('x_') ? lower.slice(2) : lower).replace(/[^a-z0-9]/g, '');", "return name;"],
  ["value: /\\beyJ[A-Za-z0-9_-]{5,}\\.[A-Za-z0-9_-]{5", "packages/core/src/redact/secret-values.ts", "  /\\beyJ[A-Za-z0-9_-]{5,}\\.[A-Za-z0-9_-]{5,}(?:\\.[A-Za-z0-9_-]*){1,3}/g,", "  /(?!)/g,"],
  ["value: /\\b(?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA|AG", "packages/core/src/redact/secret-values.ts", "  /\\b(?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AIPA|ANPA|ANVA|AROA|APKA|ASCA)[A-Z0-9]{16}\\b/g,", "  /(?!)/g,"],
  ["value: /\\bAIza[0-9A-Za-z_-]{35}/g,", "packages/core/src/redact/secret-values.ts", "  /\\bAIza[0-9A-Za-z_-]{35}/g,", "  /(?!)/g,"],
  ["value: /\\bya29\\.[0-9A-Za-z_-]{20,}/g,", "packages/core/src/redact/secret-values.ts", "  /\\bya29\\.[0-9A-Za-z_-]{20,}/g,", "  /(?!)/g,"],
  ["value: /\\b1\\/\\/0[0-9A-Za-z_-]{30,}/g,", "packages/core/src/redact/secret-values.ts", "  /\\b1\\/\\/0[0-9A-Za-z_-]{30,}/g,", "  /(?!)/g,"],
  ["value: /\\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_", "packages/core/src/redact/secret-values.ts", "  /\\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,})/g,", "  /(?!)/g,"],
  ["value: /\\bglpat-[A-Za-z0-9_-]{20,}/g,", "packages/core/src/redact/secret-values.ts", "  /\\bglpat-[A-Za-z0-9_-]{20,}/g,", "  /(?!)/g,"],
  ["value: /\\bnpm_[A-Za-z0-9]{36}\\b/g,", "packages/core/src/redact/secret-values.ts", "  /\\bnpm_[A-Za-z0-9]{36}\\b/g,", "  /(?!)/g,"],
  ["value: /\\bxox[abposr]-[A-Za-z0-9-]{10,}/g,", "packages/core/src/redact/secret-values.ts", "  /\\bxox[abposr]-[A-Za-z0-9-]{10,}/g,", "  /(?!)/g,"],
  ["value: /\\bxapp-\\d-[A-Za-z0-9-]{10,}/g,", "packages/core/src/redact/secret-values.ts", "  /\\bxapp-\\d-[A-Za-z0-9-]{10,}/g,", "  /(?!)/g,"],
  ["value: /(?<=hooks\\.slack\\.com\\/services\\/)[A-Za", "packages/core/src/redact/secret-values.ts", "  /(?<=hooks\\.slack\\.com\\/services\\/)[A-Za-z0-9_/]{20,}/g,", "  /(?!)/g,"],
  ["value: /(?<=discord(?:app)?\\.com\\/api\\/webhooks", "packages/core/src/redact/secret-values.ts", "  /(?<=discord(?:app)?\\.com\\/api\\/webhooks\\/\\d+\\/)[A-Za-z0-9_-]{20,}/g,", "  /(?!)/g,"],
  ["value: /\\b(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{1", "packages/core/src/redact/secret-values.ts", "  /\\b(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{10,}/g,", "  /(?!)/g,"],
  ["value: /\\bwhsec_[A-Za-z0-9+/=]{10,}/g,", "packages/core/src/redact/secret-values.ts", "  /\\bwhsec_[A-Za-z0-9+/=]{10,}/g,", "  /(?!)/g,"],
  ["value: /\\bsk-(?:proj-|ant-(?:api\\d+-)?)?[A-Za-z", "packages/core/src/redact/secret-values.ts", "  /\\bsk-(?:proj-|ant-(?:api\\d+-)?)?[A-Za-z0-9_-]{20,}/g,", "  /(?!)/g,"],
  ["value: /\\bSG\\.[A-Za-z0-9_-]{16,}\\.[A-Za-z0-9_-]", "packages/core/src/redact/secret-values.ts", "  /\\bSG\\.[A-Za-z0-9_-]{16,}\\.[A-Za-z0-9_-]{16,}/g,", "  /(?!)/g,"],
  ["value: /\\b\\d{8,10}:AA[A-Za-z0-9_-]{33}(?![A-Za-", "packages/core/src/redact/secret-values.ts", "  /\\b\\d{8,10}:AA[A-Za-z0-9_-]{33}(?![A-Za-z0-9_-])/g,", "  /(?!)/g,"],
  ["value: /(?<=\\b(?:[Bb]earer|BEARER|[Bb]asic|BASI", "packages/core/src/redact/secret-values.ts", "  /(?<=\\b(?:[Bb]earer|BEARER|[Bb]asic|BASIC)\\s+)(?=[A-Za-z0-9\\-._~+/]*?(?:[0-9\\-._~+/]|[A-Za-z0-9][A-Z]))[A-Za-z0-9\\-._~+/]{8,}=*/g,", "  /(?!)/g,"],
  ["value: /-----BEGIN [A-Z ]*PRIVATE KEY-----[\\s\\S", "packages/core/src/redact/secret-values.ts", "  /-----BEGIN [A-Z ]*PRIVATE KEY-----[\\s\\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)/g,", "  /(?!)/g,"],
  ["value: hint (skip when no hint)", "packages/core/src/redact/secret-values.ts", "    if (hint !== undefined && !hint.test(text)) return text;", "    if (hint !== undefined) return text;"],
  ["text: URLs in text", "packages/core/src/redact/redact-text.ts", "  if (result.includes('://')) result = result.replace(URL_IN_TEXT, (url) => rules.url(url));", ""],
  ["text: paths in text", "packages/core/src/redact/redact-text.ts", "  if (result.includes('/')) result = redactPaths(result, rules);", ""],
  ["text: header lines", "packages/core/src/redact/redact-text.ts", "rules.isSecretKey(name) && !isRedacted(value) ? `${indent}${name}${separator}${REDACTED}` : line,", "line,"],
  ["text: assignments", "packages/core/src/redact/redact-text.ts", "if (result.includes('=') || result.includes(':') || result.includes('%3')) result = redactAssignments(result, rules);", ""],
  ["text: assignment of an object/array value", "packages/core/src/redact/redact-text.ts", "    if (!encoded && (text[start] === '{' || (text[start] === '[' && !text.startsWith(REDACTED, start)))) {", "    if (false) {"],
  ["text: assignment after an encoded escape", "packages/core/src/redact/redact-text.ts", "|(?<=%[0-9A-Fa-f]{2}))[A-Za-z_$]", ")[A-Za-z_$]"],
  ["text: XML elements", "packages/core/src/redact/redact-text.ts", "rules.isSecretKey(name) && !isRedacted(content) ? `<${tag}${attributes ?? ''}>${REDACTED}</${tag}>` : element,", "element,"],
  ["text: Redis AUTH", "packages/core/src/redact/redact-text.ts", "  if (/auth/i.test(result)) result = result.replace(REDIS_AUTH, `$1${REDACTED}`).replace(REDIS_HELLO_AUTH, `$1${REDACTED}`);", ""],
  ["text: token shapes at the end", "packages/core/src/redact/redact-text.ts", "  return rules.values(result);\n}", "  return result;\n}"],
  ["text: early exit calls the shapes", "packages/core/src/redact/redact-text.ts", "  if (!MAY_HOLD_NAMED_SECRET.test(text)) return rules.values(text);", "  if (!MAY_HOLD_NAMED_SECRET.test(text)) return text;"],
  ["url: secret query names", "packages/core/src/redact/redact-url.ts", "if (rules.isFormSecretKey(name)) next = rawValue === '' || isRedacted(rawValue) ? pair : `${rawName}=${REDACTED}`;", "if (false) next = pair;"],
  ["url: other query values through text (decoded)", "packages/core/src/redact/redact-url.ts", "  const redacted = rules.text(decoded);\n  return redacted === decoded ? raw : encodeURIComponent(redacted);", "  return raw;"],
  ["url: user-info", "packages/core/src/redact/redact-url.ts", "  const at = authority.lastIndexOf('@');", "  const at = -1;"],
  ["url: secret path segment after a secret collection", "packages/core/src/redact/redact-url.ts", "    if (isSecretPathSegment(segments[index - 1]!, segment, rules)) next = REDACTED;", "    if (false) next = REDACTED;"],
  ["url: path segment through text (matrix params)", "packages/core/src/redact/redact-url.ts", "    else if (segment !== '') next = rules.text(segment);", ""],
  ["url: path actions (/reset/<token>)", "packages/core/src/redact/redact-url.ts", "  if (SECRET_PATH_ACTIONS.has(singular) || SECRET_PATH_ACTIONS.has(name)) return true;", ""],
  ["url: collection names must end in a secret word", "packages/core/src/redact/redact-url.ts", "  return SECRET_COLLECTION.test(name) && (", "  return ("],
  ["url: fragment", "packages/core/src/redact/redact-url.ts", "  if (hash >= 0) result += `#${rules.text(url.slice(hash + 1))}`;", "  if (hash >= 0) result += `#${url.slice(hash + 1)}`;"],
  ["url: shapes over the whole URL", "packages/core/src/redact/redact-url.ts", "  result = rules.values(result);\n  return result === url", "  return result === url"],
  ["json: string under a secret name", "packages/core/src/redact/redact-json.ts", "if (typeof value === 'string') return secret ? (value === REDACTED ? value : REDACTED) : rules.text(value);", "if (typeof value === 'string') return secret ? value : rules.text(value);"],
  ["json: other strings through text", "packages/core/src/redact/redact-json.ts", "if (typeof value === 'string') return secret ? (value === REDACTED ? value : REDACTED) : rules.text(value);", "if (typeof value === 'string') return secret ? (value === REDACTED ? value : REDACTED) : value;"],
  ["json: name/value pairs", "packages/core/src/redact/redact-json.ts", "    const pairSecret = !secret && pairNamesSecret(value, rules);", "    const pairSecret = false;"],
  ["json: secret object: its leaves", "packages/core/src/redact/redact-json.ts", "walk(inner, secret || rules.isSecretKey(key) ||", "walk(inner, rules.isSecretKey(key) ||"],
  ["json: numbers under a secret name", "packages/core/src/redact/redact-json.ts", "  return secret ? REDACTED : value;\n}", "  return value;\n}"],
  ["header: secret names", "packages/core/src/redact/create-redactor.ts", "return lower === 'cookie' || lower === 'set-cookie' ? redactCookie(lower, value) : isRedacted(value) ? value : REDACTED;", "return lower === 'cookie' || lower === 'set-cookie' ? redactCookie(lower, value) : value;"],
  ["header: cookie values", "packages/core/src/redact/create-redactor.ts", "return lower === 'cookie' || lower === 'set-cookie' ? redactCookie(lower, value) : isRedacted(value)", "return lower === 'cookie' || lower === 'set-cookie' ? value : isRedacted(value)"],
  ["header: Location/Referer as URLs", "packages/core/src/redact/create-redactor.ts", "return URL_HEADERS.has(lower) ? rules.url(value) : rules.text(value);", "return URL_HEADERS.has(lower) ? value : rules.text(value);"],
  ["header: other headers through text", "packages/core/src/redact/create-redactor.ts", "return URL_HEADERS.has(lower) ? rules.url(value) : rules.text(value);", "return URL_HEADERS.has(lower) ? rules.url(value) : value;"],
  ["redactor: until settled", "packages/core/src/redact/create-redactor.ts", "      if (next === current) return current;\n      current = next;", "      return next;"],
  ["body: JSON prefix (BOM, XSSI)", "packages/http-stub/src/exchange/redact-body.ts", "  const prefix = JSON_PREFIX.exec(text)?.[0] ?? '';", "  const prefix = '';"],
  ["body: JSON structure", "packages/http-stub/src/exchange/redact-body.ts", "  if (redactor.json(value) === value) return text;", "  return undefined;"],
  ["body: line by line (NDJSON, SSE, JSON-seq)", "packages/http-stub/src/exchange/redact-body.ts", "  return text.includes('\\n') ? redactLines(text, redactor) : redactor.text(text);", "  return redactor.text(text);"],
  ["body: SSE data: lead", "packages/http-stub/src/exchange/redact-body.ts", "const lead = /^(?:data: ?|\\u001e)?/.exec(line)?.[0] ?? '';", "const lead = '';"],
  ["body: form", "packages/http-stub/src/exchange/redact-body.ts", "  if (type === 'application/x-www-form-urlencoded') return redactor.form(text);", ""],
  ["body: multipart", "packages/http-stub/src/exchange/redact-body.ts", "  if (type.startsWith('multipart/') && nesting < MAX_NESTING) {", "  if (false) {"],
  ["body: sniffed compression", "packages/http-stub/src/exchange/redact-body.ts", "    const codec = nesting < MAX_NESTING ? sniffCompression(body) : undefined;", "    const codec = undefined as ReturnType<typeof sniffCompression>;"],
  ["body: binary scanned as latin1", "packages/http-stub/src/exchange/redact-body.ts", "    const redacted = redactor.text(latin1);\n    return redacted === latin1", "    const redacted = latin1;\n    return redacted === latin1"],
  ["body: text through text rules", "packages/http-stub/src/exchange/redact-body.ts", "  return text.includes('\\n') ? redactLines(text, redactor) : redactor.text(text);", "  return text;"],
  ["multipart: secret-named part", "packages/http-stub/src/exchange/redact-multipart.ts", "  if (name !== '' && redactor.isFormSecretKey(name)) {", "  if (false) {"],
  ["multipart: part content by type", "packages/http-stub/src/exchange/redact-multipart.ts", "    redacted = after === bytes ? content :", "    redacted = true ? content :"],
  ["decode: content-encoding", "packages/http-stub/src/exchange/decode-body.ts", "  if (encodings.length === 0) return { headers, body };", "  return { headers, body };"],
  ["decode: undecodable becomes a note", "packages/http-stub/src/exchange/decode-body.ts", "      return { headers: decodedHeaders, body: Buffer.from(`${REDACTED} a body in content-encoding ${encodings.join(', ')} that could not be decoded`) };", "      return { headers, body };"],
  ["exchange: URL", "packages/http-stub/src/exchange/redact-exchange.ts", "({ ...value, url: redactor.url(value.url), ...redactParts", "({ ...value, url: value.url, ...redactParts"],
  ["exchange: headers", "packages/http-stub/src/exchange/redact-exchange.ts", ": redactor.header(name, value);", ": value;"],
  ["exchange: body", "packages/http-stub/src/exchange/redact-exchange.ts", "    const redacted = redactBody(decoded.body, contentType, redactor);", "    const redacted = decoded.body;"],
  ["engine: recorded requests redacted before matching", "packages/http-stub/src/stub/stub-engine.ts", "    index.add({ ...exchange, request: this.#redactor.request(exchange.request) });", "    index.add(exchange);"],
  ["engine: live request redacted before matching", "packages/http-stub/src/stub/stub-engine.ts", "    const request = this.#redactor.request(live);", "    const request = live;"],
  ["engine: recorded exchange redacted", "packages/http-stub/src/stub/stub-engine.ts", "    const exchange = this.#redactor.exchange({ requestId, request, response,", "    const exchange = ({ requestId, request, response,"],
  ["miss error: through the redactor", "packages/http-stub/src/stub/miss-error.ts", "return new MirrorGuardError('MG_ERR_HTTP_NO_RECORDING', redact(lines.join('\\n')));", "return new MirrorGuardError('MG_ERR_HTTP_NO_RECORDING', lines.join('\\n'));"],
  ["HAR errors: redacted", "packages/http-stub/src/store/har-file.ts", "new MirrorGuardError('MG_ERR_HTTP_RECORDING_INVALID', redactMessage(message));", "new MirrorGuardError('MG_ERR_HTTP_RECORDING_INVALID', message);"],
  ["write: mode 0600", "packages/http-stub/src/store/write-recording-file.ts", "export const RECORDING_FILE_MODE = 0o600;", "export const RECORDING_FILE_MODE = 0o644;"],
  ["write: symlink refused", "packages/http-stub/src/store/write-recording-file.ts", "  if (existing !== undefined && !existing.isFile()) {", "  if (false) {"],
  ["write: random temp name", "packages/http-stub/src/store/write-recording-file.ts", "`.${basename(file)}.${randomBytes(16).toString('hex')}.tmp`", "`.${basename(file)}.${process.pid}.1.tmp`"],
  ["write: O_EXCL|O_NOFOLLOW", "packages/http-stub/src/store/write-recording-file.ts", "const handle = await open(temporary, CREATE_NEW, RECORDING_FILE_MODE);", "const handle = await open(temporary, 'w', RECORDING_FILE_MODE);"],
];

interface Report {
  readonly testResults: ReadonlyArray<{ readonly name: string; readonly status: string; readonly message?: string; readonly assertionResults: ReadonlyArray<{ readonly status: string; readonly title: string }> }>;
}

const filters = process.argv.slice(2);
const folder = mkdtempSync(join(tmpdir(), 'mirrorguard-mutations-'));
let survived = 0;
for (const [name, path, line, mutant] of MUTATIONS) {
  if (filters.length > 0 && !filters.some((filter) => name.includes(filter))) continue;
  const file = join(root, path);
  const original = readFileSync(file, 'utf8');
  if (original.split(line).length !== 2) {
    console.log(`STALE     ${name}: the line is not in ${path} exactly once`);
    survived += 1;
    continue;
  }
  const output = join(folder, `${name.replace(/\W+/g, '_')}.json`);
  try {
    writeFileSync(file, original.replace(line, () => mutant));
    spawnSync('npx', ['vitest', 'run', ...TESTS, '--reporter=json', `--outputFile=${output}`], { cwd: root, stdio: 'ignore', timeout: 900_000 });
  } finally {
    writeFileSync(file, original);
  }
  let killers: string[];
  try {
    const report = JSON.parse(readFileSync(output, 'utf8')) as Report;
    killers = report.testResults.filter((result) => result.status === 'failed').map((result) => relative(root, result.name).replace(/^.*\//, '').replace(/\.test\.ts$/, ''));
  } catch {
    killers = ['(no report: the mutant did not run)'];
  }
  if (killers.length === 0) survived += 1;
  console.log(`${killers.length > 0 ? 'killed  ' : 'SURVIVED'}  ${name.padEnd(58)} ${killers.join(', ')}`);
}
process.exitCode = survived > 0 ? 1 : 0;
