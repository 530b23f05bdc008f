import { Command, ReplyError } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { bundledCommandTable } from '../commands/command-table.ts';
import type { CopyToFinish } from '../shadow/materialize-key.ts';
import { blockedBehind, failUnlessCopied, sendCopies } from './copy-with-write.ts';

type Outcome = 'applied' | 'refused' | 'unknown';

/** A copy read from the origin, recording how it is settled. */
function copyOf(key: string, settled: Outcome[]): CopyToFinish<unknown> {
  return { key: Buffer.from(key), payload: Buffer.from('payload'), expiresAt: 0, settle: (outcome) => settled.push(outcome) };
}

/** A connection that keeps what it is sent, unanswered. */
function connection(): { sent: Command[]; sendCommand(command: Command): unknown } {
  const sent: Command[] = [];
  return { sent, sendCommand: (command: Command) => sent.push(command) };
}

describe('sendCopies', () => {
  it('sends RESTORE … REPLACE (or DEL for a key the origin lacks) and settles each copy by its own answer', () => {
    const settled: Outcome[] = [];
    const shadow = connection();
    const absent: CopyToFinish<unknown> = { key: Buffer.from('gone'), payload: null, expiresAt: 0, settle: (outcome) => settled.push(outcome) };
    const expiring: CopyToFinish<unknown> = { ...copyOf('ttl', settled), expiresAt: 1_900_000_000_000 };
    const applied = sendCopies(shadow, [copyOf('a', settled), absent, expiring]);
    expect(shadow.sent.map((command) => [command.name, ...command.args.map(String)])).toEqual([
      ['restore', 'a', '0', 'payload', 'REPLACE'],
      ['del', 'gone'],
      ['restore', 'ttl', '1900000000000', 'payload', 'REPLACE', 'ABSTTL'],
    ]);
    expect(applied()).toBeUndefined();
    for (const command of shadow.sent) command.resolve('OK');
    expect(settled).toEqual(['applied', 'applied', 'applied']);
    expect(applied()).toBe(true);
  });

  it('hands a refused copy back to the origin, and distrusts one whose timeout ran out (it may still run)', () => {
    const settled: Outcome[] = [];
    const shadow = connection();
    const applied = sendCopies(shadow, [copyOf('refused', settled), copyOf('lost', settled), copyOf('late', settled)]);
    shadow.sent[0]!.reject(new ReplyError('NOPERM this user has no permissions to run the restore command'));
    shadow.sent[1]!.reject(new Error('Connection is closed.'));
    shadow.sent[2]!.reject(new Error('Command timed out'));
    expect(settled).toEqual(['refused', 'refused', 'unknown']);
    expect(applied()).toBe(false);
  });
});

describe('failUnlessCopied', () => {
  const failing = (): { write: Command; settled: Promise<unknown> } => {
    const write = new Command('append', ['k', '+w']);
    return { write, settled: write.promise.then((value) => ({ value }), (error: Error & { code?: string }) => ({ error: error.code ?? error.message })) };
  };

  it('passes the write through once every copy is applied', async () => {
    const { write, settled } = failing();
    failUnlessCopied(write, () => true);
    write.resolve(3);
    expect(await settled).toEqual({ value: 3 });
  });

  it('fails a write the shadow answered after a copy that was refused or is unanswered', async () => {
    for (const state of [false, undefined]) {
      const { write, settled } = failing();
      failUnlessCopied(write, () => state);
      write.resolve(3);
      expect(await settled).toEqual({ error: 'MG_ERR_REDIS_SHADOW_FAILED' });
    }
  });

  it('keeps a failed write its own error unless a copy is known refused', async () => {
    const own = failing();
    failUnlessCopied(own.write, () => undefined);
    own.write.reject(new Error('Command timed out'));
    expect(await own.settled).toEqual({ error: 'Command timed out' });
    const refused = failing();
    failUnlessCopied(refused.write, () => false);
    refused.write.reject(new ReplyError('WRONGTYPE Operation against a key holding the wrong kind of value'));
    expect(await refused.settled).toEqual({ error: 'MG_ERR_REDIS_SHADOW_FAILED' });
  });
});

describe('blockedBehind', () => {
  const table = bundledCommandTable();
  const queued = (...names: string[]) => {
    const items = names.map((name) => ({ command: new Command(name, []) }));
    return { commandQueue: { length: items.length, peekAt: (index: number) => items[index] } } as never;
  };

  it('is true while a blocking command (or one it does not know) is in flight, false otherwise', () => {
    expect(blockedBehind(queued(), table)).toBe(false);
    expect(blockedBehind(queued('get', 'append', 'restore'), table)).toBe(false);
    expect(blockedBehind(queued('get', 'blpop'), table)).toBe(true);
    expect(blockedBehind(queued('xread'), table)).toBe(true);
    expect(blockedBehind(queued('not-a-command'), table)).toBe(true);
    expect(blockedBehind({} as never, table)).toBe(true);
  });
});
