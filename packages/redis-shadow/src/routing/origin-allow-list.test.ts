import { describe, expect, it } from 'vitest';
import { classifyCommand } from '../commands/classify-command.ts';
import { bundledCommandTable } from '../commands/command-table.ts';
import { KeyState } from '../shadow/key-state.ts';
import { mayReachOrigin } from './origin-allow-list.ts';
import { routeCommand } from './route-command.ts';

const table = bundledCommandTable();

describe('mayReachOrigin: the origin gets only harmless reads', () => {
  it.each([
    [['GET', 'k'], true],
    [['MEMORY', 'USAGE', 'k'], true],
    [['OBJECT', 'FREQ', 'k'], true],
    [['KEYS', '*'], true],
    [['CLIENT', 'SETNAME', 'n'], true],
    [['MULTI'], true],
    [['EVAL_RO', 'return 1', '0'], false],
    [['EVALSHA_RO', 'abc', '0'], false],
    [['FCALL_RO', 'f', '0'], false],
    [['SCRIPT', 'LOAD', 'return 1'], false],
    [['SCRIPT', 'EXISTS', 'abc'], false],
    [['FUNCTION', 'LIST'], false],
    [['PFCOUNT', 'h'], false],
    [['MEMORY', 'PURGE'], false],
    [['SLOWLOG', 'RESET'], false],
    [['LATENCY', 'RESET'], false],
    [['CLIENT', 'KILL', 'ID', '1'], false],
    [['CLIENT', 'PAUSE', '1'], false],
    [['WAIT', '1', '0'], false],
    [['SET', 'k', 'v'], false],
    [['FROBNICATE'], false],
  ])('%j → %s', (argv, allowed) => {
    expect(mayReachOrigin(table.resolve(argv))).toBe(allowed);
  });
});

describe('routeCommand: scripts run on the shadow over their declared keys, never on the origin', () => {
  it.each([['EVAL_RO'], ['EVALSHA_RO'], ['FCALL_RO'], ['EVAL'], ['EVALSHA'], ['FCALL']])('%s, with the shadow owning nothing', (name) => {
    const argv = [name, 'body', '2', 'a', 'b', 'arg'];
    expect(routeCommand(classifyCommand(table, argv), argv, new KeyState())).toMatchObject({ target: 'shadow', keys: [{ key: 'a' }, { key: 'b' }] });
  });

  it('SCRIPT LOAD and EXISTS, FUNCTION LOAD and LIST go to the shadow; SCRIPT FLUSH, FUNCTION FLUSH/DELETE/RESTORE are refused', () => {
    const route = (...argv: string[]) => routeCommand(classifyCommand(table, argv), argv, new KeyState()).target;
    expect([route('SCRIPT', 'LOAD', 'x'), route('SCRIPT', 'EXISTS', 'x'), route('FUNCTION', 'LOAD', 'x'), route('FUNCTION', 'LIST')]).toEqual(['shadow', 'shadow', 'shadow', 'shadow']);
    expect([route('SCRIPT', 'FLUSH'), route('SCRIPT', 'KILL'), route('FUNCTION', 'FLUSH'), route('FUNCTION', 'DELETE', 'l'), route('FUNCTION', 'RESTORE', 'p')]).toEqual(['refuse', 'refuse', 'refuse', 'refuse', 'refuse']);
  });
});
