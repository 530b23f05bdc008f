import { describe, expect, it } from 'vitest';
import { classifyCommand } from './classify-command.ts';
import { bundledCommandTable } from './command-table.ts';

const table = bundledCommandTable();
const keysOf = (...argv: string[]) => classifyCommand(table, argv).keys?.map((key) => argv[key.index]);

describe('the bundled command table', () => {
  it('holds every command of the Redis 7 it was made from, with subcommands', () => {
    expect(table.size).toBe(240);
    expect(table.source).toMatch(/^snapshot Redis 7\./);
    expect(table.resolve(['OBJECT', 'encoding', 'k'])?.name).toBe('object|encoding');
    expect(table.resolve(['client', 'KILL', 'ID', '1'])?.flags.has('admin')).toBe(true);
  });
});

describe('classifyCommand', () => {
  it.each([
    [['SET', 'k', 'v'], 'write', 'set'],
    [['get', 'k'], 'read', 'get'],
    [['PFCOUNT', 'h'], 'read', 'pfcount'],
    [['PUBLISH', 'c', 'm'], 'neither', 'publish'],
    [['PING'], 'neither', 'ping'],
    [['CONFIG', 'SET', 'maxmemory', '1'], 'admin', 'config|set'],
    [['SHUTDOWN'], 'admin', 'shutdown'],
    [['FLUSHDB'], 'write', 'flushdb'],
    [['KEYS', '*'], 'read', 'keys'],
    [['OBJECT', 'ENCODING', 'k'], 'read', 'object|encoding'],
    [['FROBNICATE', 'k'], 'unknown', 'frobnicate'],
    [['OBJECT', 'FROBNICATE', 'k'], 'unknown', 'object|frobnicate'],
  ] as const)('%j is %s (%s)', (argv, kind, name) => {
    expect(classifyCommand(table, argv)).toMatchObject({ kind, name });
  });

  it('finds keys by the key specs: ranges, keywords, counts, limits', () => {
    expect(keysOf('GET', 'k')).toEqual(['k']);
    expect(keysOf('MSET', 'a', '1', 'b', '2')).toEqual(['a', 'b']);
    expect(keysOf('DEL', 'a', 'b', 'c')).toEqual(['a', 'b', 'c']);
    expect(keysOf('EVAL', 'return 1', '2', 'a', 'b', 'arg')).toEqual(['a', 'b']);
    expect(keysOf('ZUNIONSTORE', 'dest', '2', 'a', 'b', 'WEIGHTS', '1', '2')).toEqual(['dest', 'a', 'b']);
    expect(keysOf('XREAD', 'COUNT', '1', 'STREAMS', 's1', 's2', '0', '0')).toEqual(['s1', 's2']);
    expect(keysOf('LMOVE', 'from', 'to', 'LEFT', 'RIGHT')).toEqual(['from', 'to']);
    expect(keysOf('OBJECT', 'ENCODING', 'k')).toEqual(['k']);
    expect(keysOf('BLMPOP', '0', '2', 'a', 'b', 'LEFT')).toEqual(['a', 'b']);
    expect(keysOf('PING')).toEqual([]);
  });

  it('says when the key specs cannot tell, so the origin is asked', () => {
    // SORT's STORE and GET/BY patterns are INCOMPLETE in the server's own specs.
    expect(classifyCommand(table, ['SORT', 'k', 'BY', 'w_*', 'STORE', 'dst']).keys).toBeUndefined();
  });
});
