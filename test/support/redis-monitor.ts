import { EventEmitter } from 'node:events';
import { connect, type Socket } from 'node:net';

/**
 * One command a Redis server received, as MONITOR reports it: its arguments (the server's
 * `sdscatrepr` quoting undone), the client's address (`lua` for a script's calls) and database.
 */
export interface MonitoredCommand {
  readonly time: string;
  readonly args: string[];
  readonly source: string;
  readonly database: string;
}

/** Undoes Redis's sdscatrepr quoting of one argument (between its quotes). */
function unquote(text: string, start: number): { value: string; end: number } {
  let value = '';
  let at = start + 1;
  while (at < text.length && text[at] !== '"') {
    const char = text[at]!;
    if (char !== '\\') {
      value += char;
      at += 1;
      continue;
    }
    const next = text[at + 1];
    if (next === 'x') {
      value += String.fromCharCode(Number.parseInt(text.slice(at + 2, at + 4), 16));
      at += 4;
      continue;
    }
    value += next === 'n' ? '\n' : next === 'r' ? '\r' : next === 't' ? '\t' : next === 'a' ? '\x07' : next === 'b' ? '\b' : (next ?? '');
    at += 2;
  }
  return { value, end: at + 1 };
}

/** Parses one MONITOR line: `1700000000.123456 [0 127.0.0.1:5000] "SET" "k" "v"`. */
export function parseMonitorLine(line: string): MonitoredCommand | undefined {
  const space = line.indexOf(' ');
  const close = line.indexOf('] ', space);
  if (space === -1 || line[space + 1] !== '[' || close === -1) return undefined;
  const [database = '', ...rest] = line.slice(space + 2, close).split(' ');
  const args: string[] = [];
  for (let at = close + 2; at < line.length; ) {
    if (line[at] !== '"') {
      at += 1;
      continue;
    }
    const { value, end } = unquote(line, at);
    args.push(value);
    at = end;
  }
  return { time: line.slice(0, space), args, source: rest.join(' '), database };
}

/**
 * MONITOR over a socket of its own, read line by line (each is a RESP simple string), with no
 * client library between the server and the oracle: ioredis's own monitor mode treats a line
 * that arrives while it is not yet (or no longer) "monitoring" as a reply, and throws "Command
 * queue state error" from its socket handler. Emits 'monitor' (time, args, source, database) for
 * every command the server receives after `ready` resolves.
 */
export class RedisMonitor extends EventEmitter {
  readonly #socket: Socket;
  #pending = '';
  #started = false;
  /** OK replies before MONITOR's own: AUTH's. */
  #okToSkip = 0;
  readonly ready: Promise<void>;

  private constructor(url: string) {
    super();
    const parsed = new URL(url);
    this.#socket = connect(Number(parsed.port || 6379), parsed.hostname.replace(/^\[|\]$/g, ''));
    this.#socket.setEncoding('latin1');
    const words = parsed.password ? ['AUTH', ...(parsed.username ? [decodeURIComponent(parsed.username)] : []), decodeURIComponent(parsed.password)] : undefined;
    const command = (argv: string[]): string => `*${argv.length}\r\n${argv.map((word) => `$${Buffer.byteLength(word, 'latin1')}\r\n${word}\r\n`).join('')}`;
    this.ready = new Promise((resolve, reject) => {
      this.#socket.once('error', reject);
      this.#socket.on('data', (chunk: string) => this.#read(chunk, resolve, reject));
    });
    this.#okToSkip = words === undefined ? 0 : 1;
    this.#socket.write((words === undefined ? '' : command(words)) + command(['MONITOR']));
  }

  static async open(url: string): Promise<RedisMonitor> {
    const monitor = new RedisMonitor(url);
    await monitor.ready;
    return monitor;
  }

  #read(chunk: string, started: () => void, failed: (error: Error) => void): void {
    this.#pending += chunk;
    for (let end = this.#pending.indexOf('\r\n'); end !== -1; end = this.#pending.indexOf('\r\n')) {
      const line = this.#pending.slice(0, end);
      this.#pending = this.#pending.slice(end + 2);
      if (line.startsWith('-')) return failed(new Error(`MONITOR refused: ${line.slice(1)}`));
      if (!line.startsWith('+')) continue;
      const body = line.slice(1);
      if (!this.#started) {
        // The AUTH reply, if any, then MONITOR's own OK: every later line is a command.
        if (body === 'OK' && (this.#okToSkip -= 1) < 0) {
          this.#started = true;
          started();
        }
        continue;
      }
      const command = parseMonitorLine(body);
      if (command !== undefined) this.emit('monitor', command.time, command.args, command.source, command.database);
    }
  }

  /** Ends the connection at once: no line is reported after this. */
  disconnect(): void {
    this.removeAllListeners('monitor');
    this.#socket.destroy();
  }
}
