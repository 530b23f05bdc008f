import { describe, expect, it } from 'vitest';
import type { JournalEvent } from './journal-event.ts';
import { MemorySink } from './memory-sink.ts';

const event = (seq: number): JournalEvent => ({
  seq,
  time: new Date(0).toISOString(),
  requestId: null,
  profile: 'mirror',
  dependency: 'db',
  action: 'blocked',
  operation: `op ${seq}`,
  reason: 'test',
});

describe('MemorySink', () => {
  it('keeps events in order', () => {
    const sink = new MemorySink();
    for (let seq = 1; seq <= 3; seq += 1) sink.write(event(seq));
    expect(sink.events().map((e) => e.seq)).toEqual([1, 2, 3]);
    expect(sink.dropped).toBe(0);
  });

  it('never holds more than its limit, dropping the oldest', () => {
    const sink = new MemorySink({ limit: 100 });
    for (let seq = 1; seq <= 1_050; seq += 1) sink.write(event(seq));
    const kept = sink.events();
    expect(kept).toHaveLength(100);
    expect(kept[0]?.seq).toBe(951);
    expect(kept.at(-1)?.seq).toBe(1_050);
    expect(kept.map((e) => e.seq)).toEqual(Array.from({ length: 100 }, (_, i) => 951 + i));
    expect(sink.dropped).toBe(950);
    sink.clear();
    expect(sink.events()).toEqual([]);
  });

  it('has a default limit of 10,000', () => {
    const sink = new MemorySink();
    for (let seq = 1; seq <= 10_001; seq += 1) sink.write(event(seq));
    expect(sink.events()).toHaveLength(10_000);
    expect(sink.limit).toBe(10_000);
  });

  it('rejects a limit that is not a positive integer', () => {
    expect(() => new MemorySink({ limit: 0 })).toThrow(RangeError);
    expect(() => new MemorySink({ limit: 1.5 })).toThrow(RangeError);
  });
});
