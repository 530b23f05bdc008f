import { createJournal, type Journal } from '@mirrorguard/core';
import { Redis, type Command, type RedisOptions } from 'ioredis';
import { classifyCommand } from '../commands/classify-command.ts';
import { bundledCommandTable, type CommandTable } from '../commands/command-table.ts';
import { SCRIPTS_THAT_MAY_WRITE, SUPPRESSED } from '../routing/allowed-commands.ts';
import { describe } from './describe-command.ts';

/**
 * Marks a command once it has been looked at: ioredis sends a command again when it leaves the
 * offline queue (sent before connect, or resent after a reconnect), and it is journaled once, not
 * classified twice (ShadowRedis marks the commands it sends to the origin the same way).
 */
const JOURNALED = Symbol('mirrorguard.journaled');

export interface RecordingRedisOptions {
  /** Where each write is journaled as `recorded`. */
  readonly journal?: Journal;
}

/**
 * The primary's side of the side-effect diff: a plain ioredis `Redis`, unchanged in behaviour, that
 * journals every command it sends that changes something — writes by the server's own flags,
 * scripts that may write, PUBLISH — as `recorded`, in the words a mirror's ShadowRedis journals
 * them, so `mirrorguard diff` can set the two side by side.
 */
export class RecordingRedis extends Redis {
  readonly #journal: Journal;
  readonly #table: CommandTable = bundledCommandTable();

  constructor(options: string | RedisOptions, recording: RecordingRedisOptions = {}) {
    // ioredis reads a string as a URL (or a socket path), as `new Redis(url)` does.
    super(options as RedisOptions);
    this.#journal = recording.journal ?? createJournal({ profile: 'record' });
  }

  override sendCommand(command: Command, stream?: Parameters<Redis['sendCommand']>[1]): unknown {
    const seen = command as Command & { [JOURNALED]?: true };
    if (seen[JOURNALED] === undefined) {
      seen[JOURNALED] = true;
      const argv = [command.name, ...command.args];
      const { kind, name } = classifyCommand(this.#table, argv);
      if (kind === 'write' || SCRIPTS_THAT_MAY_WRITE.has(name) || SUPPRESSED.has(name)) {
        this.#journal.record({ dependency: 'redis', action: 'recorded', operation: describe(argv), reason: 'sent to Redis' });
      }
    }
    return super.sendCommand(command, stream);
  }

  /** A new client with the same options and journal (ioredis' own would build a plain, silent `Redis`). */
  override duplicate(override: Partial<RedisOptions> = {}): RecordingRedis {
    return new RecordingRedis({ ...this.options, ...override }, { journal: this.#journal });
  }
}
