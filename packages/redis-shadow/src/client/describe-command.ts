/** The command as the journal shows it: its words, at most 500 characters. */
export function describe(argv: readonly unknown[]): string {
  let text = '';
  for (const part of argv) {
    text += (text === '' ? '' : ' ') + (Buffer.isBuffer(part) ? part.toString('utf8', 0, 500) : String(part));
    if (text.length >= 500) return text.slice(0, 500);
  }
  return text;
}
