// SQLite binds parameters apart from the SQL; the journal shows the statement with its values in
// place, as mysql2 sends it, so that `mirrorguard diff` compares a primary's and a mirror's
// statements by their values (and recognises a mirror's simulated insert ids) as it does for MySQL.

const QUOTE = "'";

function literal(value: unknown): string {
  if (value === null || value === undefined) return 'NULL';
  switch (typeof value) {
    case 'number':
    case 'bigint':
      return String(value);
    case 'boolean':
      return value ? '1' : '0';
    case 'string':
      return `${QUOTE}${value.replaceAll(QUOTE, "''")}${QUOTE}`;
    default:
      if (value instanceof Uint8Array) return `X'${Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('hex')}'`;
      return `${QUOTE}${String(value).replaceAll(QUOTE, "''")}${QUOTE}`;
  }
}

const isIdChar = (character: string | undefined): boolean => character !== undefined && /[\w$\u0080-\uffff]/.test(character);

/**
 * The statement with each parameter (`?`, `?NNN`, `:name`, `@name`, `$name`) replaced by its value as
 * an SQL literal; placeholders inside strings, quoted names and comments are left alone, and so is
 * a parameter with no value.
 */
export function withParameters(sql: string, parameters: readonly unknown[]): string {
  if (parameters.length === 0) return sql;
  const flat = parameters.some(Array.isArray) ? parameters.flat(1) : parameters;
  const first = flat[0];
  const named = typeof first === 'object' && first !== null && !(first instanceof Uint8Array) ? (first as Record<string, unknown>) : undefined;
  const positional = named === undefined ? flat : flat.slice(1);

  let out = '';
  let copiedTo = 0;
  let nextIndex = 1;
  let index = 0;
  const replace = (end: number, value: unknown): void => {
    out += sql.slice(copiedTo, index) + literal(value);
    copiedTo = end;
  };
  while (index < sql.length) {
    const character = sql[index]!;
    const closing = character === '[' ? ']' : character === "'" || character === '"' || character === '`' ? character : undefined;
    if (closing !== undefined) {
      const end = sql.indexOf(closing, index + 1);
      index = end === -1 ? sql.length : end + 1;
    } else if (character === '-' && sql[index + 1] === '-') {
      const end = sql.indexOf('\n', index);
      index = end === -1 ? sql.length : end + 1;
    } else if (character === '/' && sql[index + 1] === '*') {
      const end = sql.indexOf('*/', index + 2);
      index = end === -1 ? sql.length : end + 2;
    } else if (character === '?') {
      let end = index + 1;
      while (end < sql.length && sql.charCodeAt(end) >= 48 && sql.charCodeAt(end) <= 57) end += 1;
      const position = end > index + 1 ? Number(sql.slice(index + 1, end)) : nextIndex;
      nextIndex = Math.max(nextIndex, position + 1);
      if (position - 1 < positional.length) replace(end, positional[position - 1]);
      index = end;
    } else if ((character === ':' || character === '@' || character === '$') && isIdChar(sql[index + 1]) && !isIdChar(sql[index - 1])) {
      let end = index + 1;
      while (end < sql.length && isIdChar(sql[end])) end += 1;
      const name = sql.slice(index + 1, end);
      if (named !== undefined && Object.hasOwn(named, name)) replace(end, named[name]);
      else if (named !== undefined && Object.hasOwn(named, sql.slice(index, end))) replace(end, named[sql.slice(index, end)]);
      index = end;
    } else {
      index += 1;
    }
  }
  return out + sql.slice(copiedTo);
}
