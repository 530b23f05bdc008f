export { ShadowRedis } from './client/shadow-redis.ts';
export type { ShadowRedisOptions } from './client/shadow-redis.ts';
export { RecordingRedis } from './client/recording-redis.ts';
export type { RecordingRedisOptions } from './client/recording-redis.ts';
export { MemoryRedis } from './memory/memory-redis.ts';
export type { MemoryRedisOptions } from './memory/memory-redis.ts';
export type { MemoryEngine } from './memory/memory-engine.ts';
export { redisProvider } from './provider/redis-provider.ts';
export type { RedisProviderOptions } from './provider/redis-provider.ts';
export type { ShadowErrorCode } from './errors/shadow-error-codes.ts';
// The classification by the server's own metadata, usable on its own (see the README).
export { classifyCommand } from './commands/classify-command.ts';
export type { CommandClassification, CommandKind } from './commands/classify-command.ts';
export { bundledCommandTable, CommandTable, loadCommandTable } from './commands/command-table.ts';
export type { BeginSearch, CommandSpec, FindKeys, KeySpec } from './commands/command-table.ts';
export { findKeys } from './commands/find-keys.ts';
export type { KeyRef } from './commands/find-keys.ts';
export { serveMemoryEngine } from './memory/memory-server.ts';
export type { MemoryServer, MemoryServerOptions } from './memory/memory-server.ts';
