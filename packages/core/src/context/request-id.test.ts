import { describe, expect, it } from 'vitest';
import { requestIdFromHeaders, traceIdFromTraceparent } from './request-id.ts';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT = '00f067aa0ba902b7';

describe('requestIdFromHeaders', () => {
  it('takes x-request-id verbatim', () => {
    expect(requestIdFromHeaders({ 'x-request-id': 'a1b2-c3' })).toEqual({ requestId: 'a1b2-c3', source: 'x-request-id' });
  });

  it('prefers x-request-id over traceparent', () => {
    const headers = { 'x-request-id': 'envoy-id', traceparent: `00-${TRACE}-${PARENT}-01` };
    expect(requestIdFromHeaders(headers).source).toBe('x-request-id');
  });

  it('takes the first of repeated x-request-id headers, trimmed', () => {
    expect(requestIdFromHeaders({ 'x-request-id': ['  first ', 'second'] }).requestId).toBe('first');
  });

  it('falls back to the trace id of traceparent', () => {
    expect(requestIdFromHeaders({ traceparent: `00-${TRACE}-${PARENT}-01` })).toEqual({ requestId: TRACE, source: 'traceparent' });
  });

  it.each([
    ['empty', ''],
    ['spaces inside', 'has space'],
    ['control characters', 'id\u0007'],
    ['non-ASCII', 'idé'],
    ['longer than 200 characters', 'x'.repeat(201)],
  ])('ignores an x-request-id with %s', (_why, value) => {
    const resolved = requestIdFromHeaders({ 'x-request-id': value, traceparent: `00-${TRACE}-${PARENT}-01` });
    expect(resolved).toEqual({ requestId: TRACE, source: 'traceparent' });
  });

  it('generates an id when neither header is usable', () => {
    const resolved = requestIdFromHeaders({ traceparent: 'garbage' });
    expect(resolved.source).toBe('generated');
    expect(resolved.requestId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(requestIdFromHeaders({}).requestId).not.toBe(resolved.requestId);
  });

  it('uses the given generator', () => {
    expect(requestIdFromHeaders({}, () => 'made-here')).toEqual({ requestId: 'made-here', source: 'generated' });
  });

  it('reads a WHATWG Headers object', () => {
    expect(requestIdFromHeaders(new Headers({ 'X-Request-Id': 'from-fetch' })).requestId).toBe('from-fetch');
  });
});

describe('traceIdFromTraceparent', () => {
  it.each([
    [`00-${TRACE}-${PARENT}-01`, TRACE],
    [`00-${TRACE}-${PARENT}-00`, TRACE],
    [`01-${TRACE}-${PARENT}-01-future-part`, TRACE],
    [`ff-${TRACE}-${PARENT}-01`, undefined],
    [`00-${TRACE}-${PARENT}-01-extra`, undefined],
    [`00-${'0'.repeat(32)}-${PARENT}-01`, undefined],
    [`00-${TRACE}-${'0'.repeat(16)}-01`, undefined],
    [`00-${TRACE.toUpperCase()}-${PARENT}-01`, undefined],
    [`00-${TRACE.slice(1)}-${PARENT}-01`, undefined],
    ['', undefined],
  ])('%s → %s', (header, expected) => {
    expect(traceIdFromTraceparent(header)).toBe(expected);
  });
});
