/** The user a connection authenticates as, as the mirror's options name it: what the origin's user check was made for. */
export interface Credentials {
  readonly username: string | undefined;
  readonly password: string | undefined;
}

/** Commands that (re-)authenticate a connection: only the client's own handshake, with its configured user, may send them. */
export const AUTHENTICATING: ReadonlySet<string> = new Set(['auth', 'hello']);

/** ioredis' own options say null where the app's said nothing. */
export function credentialsOf(options: { readonly username?: string | null | undefined; readonly password?: string | null | undefined }): Credentials {
  return Object.freeze({ username: options.username ?? undefined, password: options.password ?? undefined });
}

export const sameCredentials = (a: Credentials, b: Credentials): boolean => (a.username ?? 'default') === (b.username ?? 'default') && a.password === b.password;

const word = (arg: unknown): string => (Buffer.isBuffer(arg) ? arg.toString('utf8') : String(arg));

/** Whether `AUTH [user] password` names the configured user and password (ioredis' handshake sends exactly that). */
function authAsConfigured(args: readonly unknown[], configured: Credentials): boolean {
  if (configured.password === undefined) return false;
  if (args.length === 1) return (configured.username ?? 'default') === 'default' && word(args[0]) === configured.password;
  return args.length === 2 && word(args[0]) === (configured.username ?? 'default') && word(args[1]) === configured.password;
}

/**
 * Why `AUTH …` or `HELLO …` may not go out, or undefined when it may: AUTH only as the configured
 * user (ioredis' own handshake after each connect); HELLO only with a protocol version and, at
 * most, AUTH as that user (ioredis 6's RESP3 handshake). Any other user — or SETNAME, or an option
 * this check does not know — is refused: another user could be more powerful than the one checked.
 */
export function reauthenticationRefusal(name: string, args: readonly unknown[], configured: Credentials): string | undefined {
  const refusal = `${name.toUpperCase()} would authenticate the connection as another user than the one the mirror was given and checked; only the client's own configured username and password are sent`;
  if (name === 'auth') return authAsConfigured(args, configured) ? undefined : refusal;
  // HELLO [protover [AUTH username password]]
  if (args.length === 0 || args.length === 1) return undefined;
  if (args.length === 4 && word(args[1]).toLowerCase() === 'auth' && authAsConfigured(args.slice(2), configured)) return undefined;
  return `${refusal} (HELLO may carry a protocol version and AUTH as that user, nothing else)`;
}
