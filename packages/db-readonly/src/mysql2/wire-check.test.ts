import { describe, expect, it } from 'vitest';
import { isUtf8Of, ReplyReader, type OwnReply } from './wire-check.ts';

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

/** MySQL packets from sequence id `first` on. */
const packets = (first: number, payloads: readonly Buffer[]): Buffer =>
  Buffer.concat(
    payloads.map((payload, index) => {
      const header = Buffer.alloc(4);
      header.writeUIntLE(payload.length, 0, 3);
      header[3] = (first + index) & 0xff;
      return Buffer.concat([header, payload]);
    }),
  );
const text = (value: string): Buffer => Buffer.concat([Buffer.of(Buffer.byteLength(value)), Buffer.from(value)]);
const column = (name: string): Buffer => Buffer.concat([...['def', '', '', '', name, name].map(text), Buffer.from([0x0c, 45, 0, 0, 1, 0, 0, 0xfd, 0, 0, 0, 0, 0])]);
const EOF = Buffer.from([0xfe, 0, 0, 0x02, 0x40]);
/** An OK that ends a result set under CLIENT_DEPRECATE_EOF: 0xfe, affected rows, insert id, status, warnings. */
const CLOSING_OK = Buffer.from([0xfe, 0, 0, 0x02, 0x40, 0, 0]);
const ROWS = [['sql_mode', 'ANSI_QUOTES,STRICT_TRANS_TABLES'], ['grant', 'GRANT SELECT ON `é`.* TO `m`@`%`'], ['null', null]];
const row = (values: ReadonlyArray<string | null>): Buffer => Buffer.concat(values.map((value) => (value === null ? Buffer.of(0xfb) : text(value))));
const resultSet = (deprecateEof: boolean, status = 0x0002): Buffer => {
  const closing = Buffer.from(deprecateEof ? CLOSING_OK : EOF);
  closing.writeUInt16LE(status, 3);
  return packets(1, [Buffer.of(2), column('Variable_name'), column('Value'), ...(deprecateEof ? [] : [EOF]), ...ROWS.map(row), closing]);
};

/** What a ReplyReader makes of `bytes`, cut into reads at `cuts`. */
function readReply(bytes: Buffer, cuts: readonly number[], deprecateEof = false): OwnReply | undefined {
  let reply: OwnReply | undefined;
  const command = {};
  const reader = new ReplyReader((done, answer) => {
    expect(done).toBe(command);
    reply = answer;
  });
  reader.begin(command, deprecateEof);
  let at = 0;
  for (const cut of [...cuts, bytes.length]) {
    reader.read(bytes.subarray(at, cut));
    at = cut;
  }
  return reply;
}

describe('ReplyReader: the reply to a guard statement, from the bytes that arrived', () => {
  it('reads a text result set however it is cut into reads, with or without CLIENT_DEPRECATE_EOF', () => {
    for (const deprecateEof of [false, true]) {
      const bytes = resultSet(deprecateEof);
      const expected = { kind: 'rows', rows: ROWS };
      // Whole, byte by byte, and cut at every offset (headers, payloads, several packets per read).
      expect(readReply(bytes, [], deprecateEof)).toEqual(expected);
      expect(readReply(bytes, Array.from({ length: bytes.length - 1 }, (_, i) => i + 1), deprecateEof)).toEqual(expected);
      for (let cut = 1; cut < bytes.length; cut += 1) expect(readReply(bytes, [cut], deprecateEof)).toEqual(expected);
    }
  });

  it('reads an OK and an error, and nothing before the reply is complete', () => {
    expect(readReply(packets(1, [Buffer.from([0x00, 0, 0, 0x02, 0x40, 0, 0])]), [3])).toEqual({ kind: 'ok' });
    const error = packets(1, [Buffer.concat([Buffer.from([0xff, 0x96, 0x07]), Buffer.from('#25006Cannot execute statement in a READ ONLY transaction')])]);
    expect(readReply(error, [5])).toEqual({ kind: 'error', errno: 1942, message: 'Cannot execute statement in a READ ONLY transaction' });
    const bytes = resultSet(false);
    expect(readReply(bytes.subarray(0, bytes.length - 1), [])).toBeUndefined();
  });

  it('refuses what is not one text result: out of sequence, more results, LOCAL INFILE, a 16 MB packet, a row that does not fit its columns', () => {
    const unreadable = (bytes: Buffer): string | undefined => {
      const reply = readReply(bytes, []);
      return reply?.kind === 'unreadable' ? reply.kind : JSON.stringify(reply);
    };
    const bytes = resultSet(false);
    expect(unreadable(Buffer.concat([Buffer.from([bytes[0]!, bytes[1]!, bytes[2]!, 2]), bytes.subarray(4)]))).toBe('unreadable');
    expect(unreadable(resultSet(false, 0x0002 | 0x0008))).toBe('unreadable');
    expect(unreadable(packets(1, [Buffer.from([0xfb, ...Buffer.from('/etc/passwd')])]))).toBe('unreadable');
    expect(unreadable(Buffer.from([0xff, 0xff, 0xff, 1, 0x00]))).toBe('unreadable');
    expect(unreadable(packets(1, [Buffer.of(2), column('a'), column('b'), EOF, text('only one'), EOF]))).toBe('unreadable');
    expect(unreadable(packets(1, [Buffer.of(1), column('a'), EOF, Buffer.concat([text('a'), text('b')]), EOF]))).toBe('unreadable');
  });
});
