import { realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import { isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package specifier of the preload. */
export const PRELOAD_SPECIFIER = '@mirrorguard/core/egress-preload';

/** A module node loads before the app: `--require` (`-r`) or `--import`, from the command line or NODE_OPTIONS. */
export interface PreloadEntry {
  readonly flag: '--require' | '--import';
  readonly value: string;
  readonly from: 'NODE_OPTIONS' | 'the command line';
}

/**
 * NODE_OPTIONS split as node splits it: on spaces only (a tab is part of a word to node), with double
 * quotes grouping and a backslash escaping the next character inside them.
 */
export function splitNodeOptions(text: string): string[] {
  const words: string[] = [];
  let word = '';
  let started = false;
  let quoted = false;
  for (let index = 0; index < text.length; index += 1) {
    const char = text[index]!;
    if (quoted && char === '\\' && index + 1 < text.length) {
      word += text[(index += 1)];
    } else if (char === '"') {
      quoted = !quoted;
      started = true;
    } else if (!quoted && char === ' ') {
      if (started) words.push(word);
      word = '';
      started = false;
    } else {
      word += char;
      started = true;
    }
  }
  if (started) words.push(word);
  return words;
}

function entriesOf(args: readonly string[], from: PreloadEntry['from']): PreloadEntry[] {
  const entries: PreloadEntry[] = [];
  for (let index = 0; index < args.length; index += 1) {
    const argument = args[index]!;
    if (argument === '--') break;
    const flag = argument === '-r' || argument === '--require' || argument.startsWith('--require=') ? '--require' : argument === '--import' || argument.startsWith('--import=') ? '--import' : undefined;
    if (flag === undefined) continue;
    const equals = argument.indexOf('=');
    const value = equals === -1 ? args[(index += 1)] : argument.slice(equals + 1);
    if (value !== undefined) entries.push({ flag, value, from });
  }
  return entries;
}

/**
 * The modules node loads before the app, in the order it runs them: every `--require` (those of
 * NODE_OPTIONS first, then the command line's), then every `--import` (NODE_OPTIONS' first).
 */
export function preloadEntries(execArgv: readonly string[], nodeOptions: string | undefined): PreloadEntry[] {
  const fromEnvironment = entriesOf(splitNodeOptions(nodeOptions ?? ''), 'NODE_OPTIONS');
  const fromCommandLine = entriesOf(execArgv, 'the command line');
  const all = [...fromEnvironment, ...fromCommandLine];
  return [...all.filter((entry) => entry.flag === '--require'), ...all.filter((entry) => entry.flag === '--import')];
}

function real(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}

/**
 * Whether this `--require`/`--import` value loads the preload at `self` (its file): by a path, a file
 * URL or a package specifier. A specifier (the package's own, `@mirrorguard/core/egress-preload`,
 * included) is resolved from the working directory as node resolves it, and counts only when it
 * resolves to this very file: another package of that name there is not the preload.
 */
export function isThePreload(value: string, self: string): boolean {
  const cwd = process.cwd();
  let path: string | undefined;
  try {
    if (value.startsWith('file:')) path = fileURLToPath(value);
    else if (isAbsolute(value)) path = value;
    else if (value.startsWith('./') || value.startsWith('../') || value === '.' || value === '..') path = resolve(cwd, value);
    // A bare specifier, resolved from the working directory as node resolves a preload.
    else path = createRequire(join(cwd, '[preload]')).resolve(value);
  } catch {
    return false;
  }
  return real(path) === real(self);
}

/**
 * Node's configuration file (Node 23.10+/24: `--experimental-config-file=<file>`, or ./node.config.json
 * with `--experimental-default-config-file`) has `nodeOptions` of its own — a `require` or `import`
 * there runs before the preload and is in neither process.execArgv nor NODE_OPTIONS. The preload does
 * not read the file: with either flag it cannot tell that it ran first (fail closed).
 */
export function configFileFlags(execArgv: readonly string[], nodeOptions: string | undefined): string[] {
  const flags: string[] = [];
  for (const args of [execArgv, splitNodeOptions(nodeOptions ?? '')]) {
    for (const argument of args) {
      if (argument === '--') break;
      if (argument === '--experimental-default-config-file' || argument === '--experimental-config-file' || argument.startsWith('--experimental-config-file=')) flags.push(argument);
    }
  }
  return flags;
}

/**
 * What ran before the preload at `self`, from node's options: the `--require`s and `--import`s
 * before it, or, when it is in none of them, that (it was loaded by the app). Empty when it is the first.
 */
export function ranBeforePreload(self: string, execArgv: readonly string[] = process.execArgv, nodeOptions: string | undefined = process.env.NODE_OPTIONS): string[] {
  const configured = configFileFlags(execArgv, nodeOptions).map(
    (flag) => `node's configuration file (${flag}): its nodeOptions.require and .import run before the preload, unseen in node's options — start a strict mirror without one`,
  );
  if (configured.length > 0) return configured;
  const entries = preloadEntries(execArgv, nodeOptions);
  const position = entries.findIndex((entry) => isThePreload(entry.value, self));
  if (position === -1) return ['the app (the preload is not among the --require and --import of node’s options: something loaded it later)'];
  return entries.slice(0, position).map((entry) => `${entry.flag} ${entry.value} (${entry.from})`);
}
