import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { withRequestContext } from '../context/request-context.ts';
import { MirrorGuardError } from '../errors/mirrorguard-error.ts';
import type { JournalEvent, JournalSink } from './journal-event.ts';
import { createJournal, EFFECT_CHANNEL } from './journal.ts';
import { JsonlFileSink } from './jsonl-file-sink.ts';
import { MemorySink } from './memory-sink.ts';
import { REDACTED } from '../redact/redaction-rules.ts';

const blocked = { dependency: 'db', action: 'blocked', operation: "DELETE FROM orders WHERE id = 7", reason: 'write in read-only mode' } as const;

describe('Journal', () => {
  it('stamps sequence, time, profile and request context on each event', () => {
    const memory = new MemorySink();
    const journal = createJournal({ profile: 'mirror', sinks: [memory] });
    const before = Date.now();
    journal.record(blocked);
    withRequestContext({ requestId: 'req-9', method: 'DELETE', path: '/orders/7' }, () => journal.record({ ...blocked, action: 'simulated' }));
    const [outside, inside] = memory.events();
    expect(outside).toMatchObject({ seq: 1, requestId: null, profile: 'mirror', ...blocked });
    expect(outside).not.toHaveProperty('method');
    expect(inside).toMatchObject({ seq: 2, requestId: 'req-9', method: 'DELETE', path: '/orders/7', action: 'simulated' });
    expect(Date.parse(inside!.time)).toBeGreaterThanOrEqual(before - 1);
    expect(inside!.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(Object.isFrozen(inside)).toBe(true);
  });

  it('redacts the operation before any sink sees it', () => {
    const memory = new MemorySink();
    const journal = createJournal({ profile: 'record', sinks: [memory], redact: { keys: ['pin'] } });
    journal.record({ dependency: 'http', action: 'recorded', operation: 'POST https://u:pw@pay.test/charge {"pin":"1234"}', reason: 'recorded' });
    expect(memory.events()[0]?.operation).toBe(`POST https://u:${REDACTED}@pay.test/charge {"pin":"${REDACTED}"}`);
  });

  it('publishes every event on the mirrorguard:effect channel', () => {
    const received: unknown[] = [];
    const listener = (message: unknown): void => {
      received.push(message);
    };
    subscribe(EFFECT_CHANNEL, listener);
    try {
      const event = createJournal({ profile: 'mirror' }).record(blocked);
      expect(received).toEqual([event]);
    } finally {
      unsubscribe(EFFECT_CHANNEL, listener);
    }
  });

  it('is observed while it has a sink or the channel has a subscriber, and only then', () => {
    expect(createJournal({ profile: 'mirror' }).observed).toBe(false);
    expect(createJournal({ profile: 'mirror', sinks: [new MemorySink()] }).observed).toBe(true);
    const journal = createJournal({ profile: 'mirror' });
    const listener = (): void => undefined;
    subscribe(EFFECT_CHANNEL, listener);
    try {
      expect(journal.observed).toBe(true);
    } finally {
      unsubscribe(EFFECT_CHANNEL, listener);
    }
    expect(journal.observed).toBe(false);
  });

  it('keeps serving other sinks when one fails, and warns once', () => {
    const memory = new MemorySink();
    const failing: JournalSink = {
      write() {
        throw new Error('disk full');
      },
    };
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    try {
      const journal = createJournal({ profile: 'mirror', sinks: [failing, memory] });
      journal.record(blocked);
      journal.record(blocked);
      expect(memory.events()).toHaveLength(2);
      expect(journal.lostEvents).toBe(2);
      expect(warn).toHaveBeenCalledTimes(1);
      expect(String(warn.mock.calls[0]?.[0])).toContain('disk full');
    } finally {
      warn.mockRestore();
    }
  });

  it('writes JSON lines to a file and closes it', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'mirrorguard-journal-')), 'nested', 'effects.jsonl');
    const sink = new JsonlFileSink(path);
    const journal = createJournal({ profile: 'mirror', sinks: [sink] });
    journal.record(blocked);
    journal.record({ ...blocked, operation: 'line\nbreak' });
    await journal.close();
    const lines = readFileSync(path, 'utf8').split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[2]).toBe('');
    const events = lines.slice(0, 2).map((line) => JSON.parse(line) as JournalEvent);
    expect(events.map((e) => e.seq)).toEqual([1, 2]);
    expect(events[1]?.operation).toBe('line\nbreak');
    expect(() => sink.write(events[0]!)).toThrow(MirrorGuardError);
  });

  it('appends to an existing journal file', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'mirrorguard-journal-')), 'effects.jsonl');
    for (let run = 0; run < 2; run += 1) {
      const journal = createJournal({ profile: 'mirror', sinks: [new JsonlFileSink(path)] });
      journal.record(blocked);
      await journal.close();
    }
    expect(readFileSync(path, 'utf8').trim().split('\n')).toHaveLength(2);
  });

  it('fails at creation, with its code, when the file cannot be opened', () => {
    expect(() => new JsonlFileSink('/proc/version/cannot/be/here.jsonl')).toThrow(
      expect.objectContaining({ code: 'MG_ERR_JOURNAL_SINK', message: expect.stringContaining('/proc/version/cannot/be/here.jsonl') }),
    );
  });

  it('aggregates sink close failures', async () => {
    const journal = createJournal({
      profile: 'live',
      sinks: [{ write() {}, close: () => Promise.reject(new Error('a')) }, { write() {}, close: () => { throw new Error('b'); } }],
    });
    await expect(journal.close()).rejects.toMatchObject({ code: 'MG_ERR_CLOSE', errors: [new Error('a'), new Error('b')] });
  });
});
