import { describe, expect, it } from 'vitest';
import { canonicalJson, canonicalRequest, differences, matchKey } from './canonical-request.ts';
import type { RecordedRequest } from './exchange.ts';

const request = (overrides: Partial<RecordedRequest> = {}): RecordedRequest => ({
  method: 'post',
  url: 'http://api.test/pay?b=2&a=1&a=0#fragment',
  headers: [['content-type', 'application/json'], ['x-tenant', 't1'], ['date', 'now']],
  body: Buffer.from('{"z":1,"a":{"y":[2,{"d":1,"c":2}],"x":null}}'),
  ...overrides,
});

describe('canonicalRequest', () => {
  it('sorts query parameters and JSON keys, upper-cases the method, drops the fragment', () => {
    expect(canonicalRequest(request(), [])).toEqual({
      method: 'POST',
      target: 'http://api.test/pay',
      query: [['a', '0'], ['a', '1'], ['b', '2']],
      body: '{"a":{"x":null,"y":[2,{"c":2,"d":1}]},"z":1}',
      headers: {},
    });
  });

  it('keeps array order and only the named headers', () => {
    expect(canonicalJson([3, 1, 2])).toBe('[3,1,2]');
    expect(canonicalRequest(request(), ['X-Tenant']).headers).toEqual({ 'x-tenant': 't1' });
  });

  it('matches requests that differ only in volatile parts, and explains real differences', () => {
    const asked = canonicalRequest(request({ url: 'http://api.test/pay?a=1&a=0&b=2', headers: [['date', 'later']] }), []);
    const recorded = canonicalRequest(request(), []);
    expect(matchKey(asked)).toBe(matchKey(recorded));
    const other = canonicalRequest(request({ method: 'PUT', body: Buffer.from('{"z":2}') }), []);
    expect(differences(asked, other)).toEqual([expect.stringContaining('method PUT (asked POST)'), expect.stringContaining('body {"z":2}')]);
  });

  it('applies normalizers to both sides', () => {
    const blankId = (canonical: ReturnType<typeof canonicalRequest>) => ({ ...canonical, body: canonical.body.replace(/"id":"[^"]*"/, '"id":"*"') });
    const a = canonicalRequest(request({ body: Buffer.from('{"id":"u-1","n":1}') }), [], [blankId]);
    const b = canonicalRequest(request({ body: Buffer.from('{"n":1,"id":"u-2"}') }), [], [blankId]);
    expect(matchKey(a)).toBe(matchKey(b));
  });

  it('compares non-JSON bodies as text, binary ones as base64', () => {
    expect(canonicalRequest(request({ body: Buffer.from('a=1&b=2'), headers: [] }), []).body).toBe('a=1&b=2');
    expect(canonicalRequest(request({ body: Buffer.from([0xff, 0x00]), headers: [] }), []).body).toBe('base64:/wA=');
  });
});
