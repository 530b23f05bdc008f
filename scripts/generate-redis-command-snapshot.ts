// Writes packages/redis-shadow/src/commands/command-snapshot.json: the raw reply of COMMAND from a
// real Redis 7 (REDIS_URL, loopback by default), bundled for when the guard has no origin to ask.
// Run: node scripts/generate-redis-command-snapshot.ts
import { writeFileSync } from 'node:fs';
import { Redis } from 'ioredis';

const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
const info = await redis.info('server');
const version = /redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown';
if (!version.startsWith('7.')) throw new Error(`the snapshot must come from Redis 7, this is ${version}`);
const commands = (await redis.call('COMMAND')) as unknown[];
commands.sort((a, b) => String((a as unknown[])[0]).localeCompare(String((b as unknown[])[0])));
const target = new URL('../packages/redis-shadow/src/commands/command-snapshot.json', import.meta.url);
writeFileSync(target, `${JSON.stringify({ redisVersion: version, commands })}\n`);
console.log(`wrote ${commands.length} commands from Redis ${version} to ${target.pathname}`);
await redis.quit();
