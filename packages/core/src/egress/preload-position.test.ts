import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { configFileFlags, isThePreload, preloadEntries, ranBeforePreload, splitNodeOptions } from './preload-position.ts';

const SELF = fileURLToPath(new URL('./egress-preload.ts', import.meta.url));

describe('the preload among node options', () => {
  it('splits NODE_OPTIONS as node does: whitespace, double quotes, backslash escapes in them', () => {
    expect(splitNodeOptions('  -r a.js   --require "b c.js" --import="d\\"e.mjs"  ')).toEqual(['-r', 'a.js', '--require', 'b c.js', '--import=d"e.mjs']);
  });

  it('orders them as node runs them: every --require (NODE_OPTIONS first), then every --import', () => {
    const entries = preloadEntries(['--import', './c.mjs', '-r', './d.cjs', '--require=./e.cjs'], '--import ./b.mjs --require ./a.cjs');
    expect(entries.map((entry) => `${entry.flag} ${entry.value}`)).toEqual(['--require ./a.cjs', '--require ./d.cjs', '--require ./e.cjs', '--import ./b.mjs', '--import ./c.mjs']);
  });

  it('first, by path, file URL, --require= or -r, from the command line or NODE_OPTIONS: nothing ran before it', () => {
    for (const [execArgv, nodeOptions] of [
      [['--require', SELF], undefined],
      [['-r', SELF, '--require', './other.cjs'], ''],
      [[`--require=${SELF}`], '--import ./late.mjs'],
      [['--import', pathToFileURL(SELF).href], undefined],
      [[], `--require "${SELF}" --require ./other.cjs`],
      [['--inspect', '--', '--require', './not-an-option.cjs'], `-r ${SELF}`],
    ] as const) {
      expect(ranBeforePreload(SELF, execArgv, nodeOptions), JSON.stringify({ execArgv, nodeOptions })).toEqual([]);
    }
  });

  it('not first: what ran before it is named; not there at all: the app loaded it', () => {
    expect(ranBeforePreload(SELF, ['--require', './early.cjs', '--require', SELF], undefined)).toEqual(['--require ./early.cjs (the command line)']);
    expect(ranBeforePreload(SELF, ['--require', SELF], '--require ./apm.cjs')).toEqual(['--require ./apm.cjs (NODE_OPTIONS)']);
    // A --require on the command line runs before an --import in NODE_OPTIONS.
    expect(ranBeforePreload(SELF, ['-r', './early.cjs'], `--import ${pathToFileURL(SELF).href}`)).toEqual(['--require ./early.cjs (the command line)']);
    expect(ranBeforePreload(SELF, [], undefined)).toEqual([expect.stringContaining('not among the --require and --import')]);
  });

  it('a node configuration file flag, in either form: not first, whatever its place (the file is not read)', () => {
    for (const flag of ['--experimental-config-file=./node.config.json', '--experimental-config-file', '--experimental-default-config-file']) {
      expect(configFileFlags([flag, '--require', SELF], undefined)).toEqual([flag]);
      expect(ranBeforePreload(SELF, [flag, '--require', SELF], undefined)).toEqual([expect.stringContaining(`node's configuration file (${flag})`)]);
    }
    expect(configFileFlags(['--require', SELF, '--', '--experimental-default-config-file'], undefined)).toEqual([]);
  });

  it('a package specifier counts only when it resolves to the preload itself', () => {
    expect(isThePreload('@mirrorguard/core/egress-preload', SELF)).toBe(false);
    expect(isThePreload('vitest', SELF)).toBe(false);
  });
});
