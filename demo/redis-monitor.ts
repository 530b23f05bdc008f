import { bundledCommandTable, classifyCommand } from '@mirrorguard/redis-shadow';
import { Redis } from 'ioredis';
import { RedisMonitor as MonitorConnection } from '../test/support/redis-monitor.ts';

/** What one named client sent to the Redis server while it was watched. */
export interface ClientCommands {
  readonly commands: number;
  /** The write commands (by the server's own command flags), as sent. */
  readonly writes: readonly string[];
}

export interface RedisMonitor {
  /**
   * Stops watching and counts what each client whose name starts with `prefix` sent, by name. Call it
   * while the clients are still connected: their names are read from CLIENT LIST.
   */
  stop(prefix: string): Promise<Record<string, ClientCommands>>;
}

/**
 * Watches every command a Redis server receives (MONITOR), independently of the guards: the proof,
 * command by command, that the mirrors' connections sent the shared Redis no write.
 */
export async function monitorRedis(url: string): Promise<RedisMonitor> {
  const table = bundledCommandTable();
  const seen: Array<{ source: string; argv: string[] }> = [];
  const admin = new Redis(url);
  // A MONITOR read off its own socket: ioredis's monitor mode throws on a line that arrives while
  // it is entering or leaving that mode, which a busy server sends.
  const monitor = await MonitorConnection.open(url);
  monitor.on('monitor', (_time: string, argv: string[], source: string) => seen.push({ source, argv }));
  return {
    async stop(prefix) {
      const clients = String(await admin.call('CLIENT', 'LIST'));
      monitor.disconnect();
      admin.disconnect();
      const names = new Map<string, string>();
      for (const line of clients.split('\n')) {
        const name = /(?:^| )name=(\S*)/.exec(line)?.[1] ?? '';
        const address = /(?:^| )addr=(\S+)/.exec(line)?.[1];
        if (address !== undefined && name.startsWith(prefix)) names.set(address, name.slice(prefix.length));
      }
      const byClient: Record<string, { commands: number; writes: string[] }> = {};
      for (const { source, argv } of seen) {
        const name = names.get(source);
        if (name === undefined) continue;
        const entry = (byClient[name] ??= { commands: 0, writes: [] });
        entry.commands += 1;
        if (classifyCommand(table, argv).kind === 'write') entry.writes.push(argv.join(' ').slice(0, 200));
      }
      return byClient;
    },
  };
}
