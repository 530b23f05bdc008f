import { Command, Redis, ReplyError, type RedisOptions } from 'ioredis';
import { MemoryConnection } from './memory-connection.ts';
import { MemoryEngine, type CommandArgv } from './memory-engine.ts';
import { createMemoryEngine } from './families.ts';
import { parsedReply } from './replies.ts';

export interface MemoryRedisOptions {
  /** The engine to share with other clients (a mirror's shadow, a test's fixtures); a new one by default. */
  readonly engine?: MemoryEngine;
  readonly db?: number;
  readonly keyPrefix?: string;
}

/** The command as the engine takes it: its name, then each argument as bytes (a loop: no intermediate arrays). */
function argvOf(command: Command): CommandArgv {
  const args = command.args;
  const argv: [string, ...Buffer[]] = [command.name];
  for (let index = 0; index < args.length; index += 1) {
    const part = args[index];
    argv.push(Buffer.isBuffer(part) ? part : Buffer.from(String(part), 'utf8'));
  }
  return argv;
}

/**
 * An ioredis `Redis` answered by the memory engine, in process, with no connection at all: the app's
 * code, pipelines, `multi()` and reply transforms are ioredis' own. Ready as soon as it is built.
 * Commands the engine does not run fail with MG_ERR_REDIS_UNSUPPORTED.
 */
export class MemoryRedis extends Redis {
  readonly engine: MemoryEngine;
  /** A new one on each (re)connect: a server forgets a closed connection's database and transaction. */
  #connection: MemoryConnection;

  constructor(options: MemoryRedisOptions = {}) {
    const redisOptions: RedisOptions = { lazyConnect: true, enableAutoPipelining: false, db: options.db ?? 0 };
    if (options.keyPrefix !== undefined) redisOptions.keyPrefix = options.keyPrefix;
    super(redisOptions);
    this.engine = options.engine ?? createMemoryEngine();
    this.#connection = new MemoryConnection(this.engine, options.db ?? 0);
    this.#open();
  }

  #open(): void {
    const status = this as unknown as { setStatus(status: string): void };
    status.setStatus('connect');
    status.setStatus('ready');
  }

  override connect(): Promise<void> {
    if (this.status === 'end') {
      this.#connection = new MemoryConnection(this.engine, this.options.db ?? 0);
      this.#open();
    }
    return Promise.resolve();
  }

  override sendCommand(command: Command): unknown {
    if (this.status === 'end') {
      command.reject(new Error('Connection is closed.'));
      return command.promise;
    }
    try {
      const reply = this.#connection.execute(argvOf(command));
      // ioredis names the command on its reply errors.
      if (reply instanceof ReplyError) command.reject(Object.assign(reply, { command: { name: command.name, args: command.args } }));
      else command.resolve(parsedReply(reply));
    } catch (error) {
      command.reject(error as Error);
    }
    if (command.name === 'quit') this.#close();
    return command.promise;
  }

  #close(): void {
    if (this.status === 'end') return;
    (this as unknown as { setStatus(status: string): void }).setStatus('close');
    (this as unknown as { setStatus(status: string): void }).setStatus('end');
  }

  override disconnect(): void {
    this.#close();
  }

  /** Another client on the same engine. */
  override duplicate(override: Partial<MemoryRedisOptions> = {}): MemoryRedis {
    const options: MemoryRedisOptions = { engine: this.engine, db: this.options.db ?? 0, ...(this.options.keyPrefix !== undefined && { keyPrefix: this.options.keyPrefix }), ...override };
    return new MemoryRedis(options);
  }
}
