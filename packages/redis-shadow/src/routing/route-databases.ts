import type { KeyToOwn, Route } from './route.ts';

const text = (value: unknown): string => (Buffer.isBuffer(value) ? value.toString('latin1') : String(value));

/** The other database MOVE key db, or COPY … DB db, reaches, and where argv names it; undefined for any other command. */
export function otherDatabase(name: string, argv: readonly unknown[]): { readonly db: number; readonly index: number } | undefined {
  let at: number | undefined;
  if (name === 'move') at = 2;
  else if (name === 'copy') {
    for (let index = 3; index + 1 < argv.length; index += 1) if (text(argv[index]).toUpperCase() === 'DB') at = index + 1;
  }
  // Only what the server reads as a database index (it refuses "03", "+3").
  if (at === undefined || !/^(?:0|[1-9][0-9]*)$/.test(text(argv[at]))) return undefined;
  return { db: Number(text(argv[at])), index: at };
}

/**
 * MOVE and COPY … DB write a key of another database: that key is owned (and copied: MOVE and COPY
 * without REPLACE answer by whether it exists) in its own database, as the source is in this one.
 */
export function routeToOtherDatabase(
  name: string,
  argv: readonly unknown[],
  route: Extract<Route, { target: 'shadow' }>,
  other: { readonly db: number; readonly index: number },
  shadowDb: number,
): Route {
  const source = argv[1] as Buffer | string;
  const destination = (name === 'move' ? argv[1] : argv[2]) as Buffer | string;
  const keys: KeyToOwn[] = [{ key: source }, { key: destination, db: other.db }];
  // The shadow has the origin's database under its own index.
  return { ...route, keys, rewrite: { index: other.index, value: String(shadowDb) } };
}
