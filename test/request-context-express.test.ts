import { readFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import express from 'express';
import { createPool, type Pool, type RowDataPacket } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createJournal, getRequestContext, memorySink, requestContextMiddleware } from '@mirrorguard/core';
import { MYSQL_URL } from './support/servers.ts';

// 200 requests in flight at once through a real Express server; each awaits timers, file I/O and a
// query on a MariaDB pool of 4 connections (so connections are shared between requests), and checks
// after every step that it sees its own request id and no other.
describe('request context under concurrency (Express + MariaDB)', () => {
  const CONCURRENCY = 200;
  const journalSink = memorySink();
  const journal = createJournal({ profile: 'mirror', sinks: [journalSink] });
  let pool: Pool;
  let server: Server;
  let base: string;

  beforeAll(async () => {
    pool = createPool({ uri: MYSQL_URL, connectionLimit: 4 });
    const app = express();
    app.use(requestContextMiddleware());
    app.get('/work/:n', async (request, response) => {
      const seen: Array<string | undefined> = [];
      const look = (): void => void seen.push(getRequestContext()?.requestId);
      look();
      await sleep(Math.floor(Math.random() * 15));
      look();
      await readFile(new URL(import.meta.url));
      look();
      const [rows] = await pool.query<RowDataPacket[]>('SELECT SLEEP(?) AS slept, ? AS echo', [Math.random() / 100, request.params.n]);
      look();
      await new Promise<void>((resolve) => setImmediate(resolve));
      look();
      journal.record({ dependency: 'db', action: 'blocked', operation: `DELETE FROM t WHERE n = ${request.params.n}`, reason: 'test' });
      response.json({ seen, echo: String(rows[0]?.echo) });
    });
    server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    await pool.end();
  });

  it(`gives each of ${CONCURRENCY} concurrent requests only its own id`, async () => {
    const requests = Array.from({ length: CONCURRENCY }, (_, n) => {
      // A third carry x-request-id, a third only traceparent, a third neither.
      const traceId = n.toString(16).padStart(32, 'a');
      const headers: Record<string, string> =
        n % 3 === 0 ? { 'x-request-id': `req-${n}` } : n % 3 === 1 ? { traceparent: `00-${traceId}-00f067aa0ba902b7-01` } : {};
      const expected = n % 3 === 0 ? `req-${n}` : n % 3 === 1 ? traceId : undefined;
      return { n, headers, expected };
    });

    const results = await Promise.all(
      requests.map(async ({ n, headers, expected }) => {
        const response = await fetch(`${base}/work/${n}`, { headers });
        expect(response.status).toBe(200);
        const body = (await response.json()) as { seen: string[]; echo: string };
        return { n, expected, ...body };
      }),
    );

    const generated = new Set<string>();
    for (const { n, expected, seen, echo } of results) {
      expect(echo).toBe(String(n));
      expect(seen).toHaveLength(5);
      expect(new Set(seen).size, `request ${n} saw ${seen.join(', ')}`).toBe(1);
      if (expected === undefined) generated.add(seen[0]!);
      else expect(seen[0]).toBe(expected);
    }
    expect(generated.size).toBe(requests.filter((r) => r.expected === undefined).length);

    // The journal read the same context at each interception point.
    const events = journalSink.events();
    expect(events).toHaveLength(CONCURRENCY);
    const idOf = new Map(results.map(({ n, seen }) => [`DELETE FROM t WHERE n = ${n}`, seen[0]]));
    for (const event of events) {
      expect(event.requestId).toBe(idOf.get(event.operation));
      expect(event.path).toMatch(/^\/work\/\d+$/);
      expect(event.operation).toBe(`DELETE FROM t WHERE n = ${event.path!.slice('/work/'.length)}`);
    }
    expect(getRequestContext()).toBeUndefined();
  });
});
