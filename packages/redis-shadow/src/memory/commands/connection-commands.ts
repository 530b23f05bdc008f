import type { CommandFamily } from '../memory-engine.ts';
import { bulk, PONG, type Reply } from '../replies.ts';

/** PING, ECHO, TIME; PUBLISH answers 0, as no one can subscribe to the memory engine. */
export const connectionCommands: CommandFamily = {
  ping: ({ args }) => (args.length === 0 ? PONG : args[0]!),
  echo: ({ args }) => args[0]!,
  time: ({ db }): Reply => {
    const micros = BigInt(Math.round(db.now() * 1000));
    return [bulk(String(micros / 1_000_000n)), bulk(String(micros % 1_000_000n))];
  },
  publish: () => 0,
  spublish: () => 0,
};
