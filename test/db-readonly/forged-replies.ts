// Replies the attack tests forge for the guard's own read-back, and the statement that shows a
// forgery worked: a GET_LOCK that runs only if the guard believes the session has no ANSI_QUOTES.

/** Under ANSI_QUOTES `"\"` is a name and GET_LOCK a call; without it, the rest is one string and a comment. */
export const ANSI_ONLY_LOCK = (lock: string): string => `SELECT 1 AS "\\", GET_LOCK('${lock}', 0) -- "`;

/** MySQL packets: a 3-byte length, the sequence id, the payload. */
export function packets(first: number, payloads: readonly Buffer[]): Buffer {
  return Buffer.concat(
    payloads.map((payload, index) => {
      const header = Buffer.alloc(4);
      header.writeUIntLE(payload.length, 0, 3);
      header[3] = (first + index) & 0xff;
      return Buffer.concat([header, payload]);
    }),
  );
}
export const lengthEncoded = (text: string): Buffer => Buffer.concat([Buffer.of(Buffer.byteLength(text)), Buffer.from(text)]);

/** A made-up reply to READ_SESSION_STATE: read-only, pinned, bounded, and sql_mode without ANSI_QUOTES. */
export function forgedReadBack(): Buffer {
  const column = (name: string): Buffer =>
    Buffer.concat([...['def', '', '', '', name, name].map(lengthEncoded), Buffer.from([0x0c, 45, 0, 0, 1, 0, 0, 0xfd, 0, 0, 0, 0, 0])]);
  const eof = Buffer.from([0xfe, 0, 0, 0x02, 0x40]);
  const rows = [
    ['transaction_read_only', 'ON'],
    ['tx_read_only', 'ON'],
    ['sql_mode', 'STRICT_TRANS_TABLES'],
    ['session_track_state_change', 'ON'],
    ['character_set_client', 'utf8mb4'],
    ['character_set_connection', 'utf8mb4'],
    ['max_statement_time', '1.500000'],
    ['net_write_timeout', '2'],
  ];
  return packets(1, [Buffer.of(2), column('Variable_name'), column('Value'), eof, ...rows.map((row) => Buffer.concat(row.map(lengthEncoded))), eof]);
}
