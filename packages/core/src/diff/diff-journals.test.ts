import { describe, expect, it } from 'vitest';
import type { JournalEvent } from '../journal/journal-event.ts';
import { diffJournals } from './diff-journals.ts';
import { normalizeOperation, operationShape } from './normalize-operation.ts';

let seq = 0;
const event = (requestId: string | null, action: JournalEvent['action'], dependency: string, operation: string, path = '/orders'): JournalEvent => ({
  seq: (seq += 1),
  time: '2026-11-23T10:00:00.000Z',
  requestId,
  profile: action === 'recorded' ? 'record' : 'mirror',
  dependency,
  action,
  operation,
  reason: '',
  method: 'POST',
  path: `${path}?page=1`,
});

describe('normalizeOperation and operationShape', () => {
  it('blanks timestamps, UUIDs, long hex ids and long numbers', () => {
    expect(normalizeOperation("INSERT INTO o (id, at, ref, n) VALUES ('3f1e2d4c-1111-4222-8333-123456789abc', '2026-11-23 10:00:01.123', 'a1b2c3d4e5f60718293a4b5c', 1763892001123)")).toBe(
      "INSERT INTO o (id, at, ref, n) VALUES ('<uuid>', '<time>', '<hex>', <n>)",
    );
  });

  it('gives the same statement with other values one shape', () => {
    expect(operationShape("UPDATE stock SET qty = 4 WHERE sku = 'lamp'")).toBe(operationShape("UPDATE stock SET qty = 9 WHERE sku = 'desk'"));
    expect(operationShape("UPDATE stock SET qty = 4 WHERE sku = 'lamp'")).not.toBe(operationShape("DELETE FROM stock WHERE sku = 'lamp'"));
  });
});

describe('diffJournals', () => {
  const primary = [
    event('r1', 'recorded', 'db', "INSERT INTO orders (id, total, created_at) VALUES (7, 20, '2026-11-23 10:00:00')"),
    event('r1', 'recorded', 'redis', 'decrby stock:lamp 1'),
    event('r1', 'recorded', 'http', 'POST http://payments/charge'),
    event('r2', 'recorded', 'db', "UPDATE orders SET status = 'paid' WHERE id = 8"),
    event('r3', 'recorded', 'db', 'DELETE FROM carts WHERE user_id = 3'),
    event('r4', 'recorded', 'redis', 'set cache:p1 x', '/products'),
  ];
  const mirror = [
    // r1: the same writes, in another order, another timestamp, a simulated insert id.
    event('r1', 'replayed', 'http', 'POST http://payments/charge'),
    event('r1', 'simulated', 'db', "INSERT INTO orders (id, total, created_at) VALUES (2000000001, 20, '2026-11-23 10:00:05')"),
    event('r1', 'shadowed', 'redis', 'decrby stock:lamp 1'),
    // r2: other values. r3: another statement, and an extra call.
    event('r2', 'simulated', 'db', "UPDATE orders SET status = 'refunded' WHERE id = 8"),
    event('r3', 'simulated', 'db', 'UPDATE carts SET deleted = 1 WHERE user_id = 3'),
    event('r3', 'replayed', 'http', 'POST http://mail/send'),
    // r4: nothing: the write is missing. A read the mirror journaled is no effect of the primary's kind.
    event('r4', 'warned', 'redis', 'the origin user can write', '/products'),
  ];

  it('pairs by request id and finds every kind of difference, and nothing else', () => {
    const diff = diffJournals(primary, mirror);
    expect(diff.differing).toBe(3);
    expect(diff.requests.map((request) => [request.requestId, request.differences])).toEqual([
      ['r1', []],
      ['r2', [{ kind: 'other values', dependency: 'db', primary: "UPDATE orders SET status = 'paid' WHERE id = 8", mirror: "UPDATE orders SET status = 'refunded' WHERE id = 8" }]],
      [
        'r3',
        [
          { kind: 'another operation', dependency: 'db', primary: 'DELETE FROM carts WHERE user_id = 3', mirror: 'UPDATE carts SET deleted = 1 WHERE user_id = 3' },
          { kind: 'extra', dependency: 'http', mirror: 'POST http://mail/send' },
        ],
      ],
      ['r4', [{ kind: 'missing', dependency: 'redis', primary: 'set cache:p1 x' }]],
    ]);
    expect(diff.endpoints).toEqual([
      { endpoint: 'POST /orders', requests: 3, differing: 2 },
      { endpoint: 'POST /products', requests: 1, differing: 1 },
    ]);
  });

  it('finds no difference between a journal and itself as a mirror would write it, and applies user normalizers', () => {
    const same = primary.map((entry) => ({ ...entry, action: 'simulated' as const }));
    expect(diffJournals(primary, same).differing).toBe(0);
    const other = [event('r9', 'recorded', 'http', 'POST http://payments/charge?nonce=abc')];
    const otherMirror = [event('r9', 'replayed', 'http', 'POST http://payments/charge?nonce=xyz')];
    expect(diffJournals(other, otherMirror).differing).toBe(1);
    expect(diffJournals(other, otherMirror, { normalizers: [(text) => text.replace(/nonce=\w+/, 'nonce=*')] }).differing).toBe(0);
  });
});
