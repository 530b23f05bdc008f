export { classifyCommand } from './commands/classify-command.ts';
export type { CommandClassification, CommandKind } from './commands/classify-command.ts';
export { bundledCommandTable, CommandTable, loadCommandTable } from './commands/command-table.ts';
export type { BeginSearch, CommandSpec, FindKeys, KeySpec } from './commands/command-table.ts';
export { findKeys } from './commands/find-keys.ts';
export type { KeyRef } from './commands/find-keys.ts';
