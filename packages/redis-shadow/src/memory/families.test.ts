import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { bundledCommandTable } from '../commands/command-table.ts';
import { MEMORY_FAMILIES } from './families.ts';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

/** The README row of a family: its name, then the commands the engine runs, upper case, sorted. */
const familyRow = (family: string, commands: readonly string[]): string =>
  `| ${family} | ${[...commands].map((name) => name.toUpperCase().replace('|', ' ')).sort().join(', ')} |`;

describe('the memory engine\'s command families', () => {
  it.each(Object.entries(MEMORY_FAMILIES))('%s is listed in the README exactly as the engine runs it', (family, commands) => {
    expect(readme).toContain(familyRow(family, Object.keys(commands)));
  });

  it('runs only commands Redis 7 has, each in one family', () => {
    const table = bundledCommandTable();
    const names = Object.values(MEMORY_FAMILIES).flatMap((family) => Object.keys(family));
    expect(names.filter((name) => table.get(name.split('|')[0]!) === undefined)).toEqual([]);
    expect(new Set(names).size).toBe(names.length);
  });
});
