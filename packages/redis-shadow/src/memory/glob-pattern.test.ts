import { describe, expect, it } from 'vitest';
import { globMatch, parseGlob, type GlobStats } from './glob-pattern.ts';

// Redis' own stringmatchlen answers are checked against a redis-server in
// test/redis-shadow/glob-pattern.test.ts; here, the bound on the work a match takes.

/** At most one step per (token, subject byte) pair, and a few more: no backtracking explosion. */
const bound = (pattern: string, subject: string): number => (parseGlob(pattern).length + 1) * (subject.length + 1);

describe('globMatch', () => {
  it.each([
    ['30 stars and a byte no subject has', `${'a*'.repeat(30)}b`, 'a'.repeat(10_000), false],
    ['30 stars that match', `${'a*'.repeat(30)}a`, 'a'.repeat(10_000), true],
    ['30 stars between classes', `${'[a-c]*'.repeat(30)}[^a-c]`, 'abc'.repeat(3_400), false],
    ['30 stars and 30 ?', `${'*?'.repeat(30)}b`, 'a'.repeat(10_000), false],
    ['30 stars in a row', '*'.repeat(30), 'a'.repeat(10_000), true],
    ["the keyspace suite's regression", 'a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b', 'a'.repeat(40), false],
  ])('%s: answers within (tokens + 1) × (subject + 1) steps', (_name, pattern, subject, expected) => {
    const stats: GlobStats = { steps: 0 };
    expect(globMatch(pattern, subject, stats)).toBe(expected);
    expect(stats.steps).toBeLessThanOrEqual(bound(pattern, subject));
  });

  it.each([
    ['*', '', false],
    ['', '', true],
    ['**', 'a', true],
    ['[a-]', ']', true],
    ['[a-]', '_', true],
    ['[a-]', 'b', false],
    ['[abc', 'c', true],
    ['[^', 'x', true],
    ['[', 'x', false],
    ['[]a]', ']', false],
    ['[]a]', 'a]', false],
    ['[\\]]', ']', true],
    ['a\\', 'a\\', true],
    ['\\*', '*', true],
    ['\\*', 'a', false],
    ['[a-\xff]', 'b', false],
    ['[a-\xff]', '\xff', true],
    ['[a-\xff]', '\x00', true],
  ])("reads %j as Redis' stringmatchlen does (against %j: %s)", (pattern, subject, expected) => {
    expect(globMatch(pattern, subject)).toBe(expected);
  });
});
