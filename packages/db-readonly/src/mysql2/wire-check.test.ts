import { describe, expect, it } from 'vitest';
import { isUtf8Of } from './wire-check.ts';

// As mysql2 writes a statement: Buffer#utf8Write into a packet after its header and command byte.
const written = (text: string): Buffer => {
  const buffer = Buffer.alloc(5 + Buffer.byteLength(text, 'utf8'));
  (buffer as Buffer & { utf8Write(text: string, offset: number): number }).utf8Write(text, 5);
  return buffer;
};

describe('isUtf8Of', () => {
  it('accepts exactly the UTF-8 bytes of the text, ASCII or not, lone surrogates as mysql2 writes them', () => {
    for (const text of ['', 'SELECT 1', "SELECT 'ü€😀'", 'SELECT \ufffd', 'SELECT \ud800 x', 'x'.repeat(5000) + 'é']) {
      const buffer = written(text);
      expect(isUtf8Of(buffer, 5, buffer.length, text)).toBe(true);
    }
  });

  it('refuses the same text in another encoding, and bytes that merely decode to it', () => {
    // Latin-1 é is one byte, as many as the text's characters: not UTF-8.
    expect(isUtf8Of(Buffer.from('SELECT \u00e9', 'latin1'), 0, 8, 'SELECT \u00e9')).toBe(false);
    // F0 9F 98 is a truncated sequence that decodes to one U+FFFD, as long as U+FFFD's own bytes.
    const truncated = Buffer.from([0x53, 0xf0, 0x9f, 0x98]);
    expect(truncated.toString('utf8')).toBe('S\ufffd');
    expect(isUtf8Of(truncated, 0, 4, 'S\ufffd')).toBe(false);
    // Big5 許 is B3 5C: its second byte is a backslash.
    expect(isUtf8Of(Buffer.from([0x27, 0xb3, 0x5c, 0x27]), 0, 4, "'許'")).toBe(false);
    expect(isUtf8Of(written('SELECT 1'), 5, 12, 'SELECT 1')).toBe(false);
  });
});
