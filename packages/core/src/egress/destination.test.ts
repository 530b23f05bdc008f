import { describe, expect, it } from 'vitest';
import { AllowList } from './allow-list.ts';
import { canonicalHost, describeDestination, parseDestination } from './destination.ts';

describe('parseDestination', () => {
  it.each([
    ['db.internal:3306', { host: 'db.internal', port: 3306 }],
    ['DB.Internal.:3306', { host: 'db.internal', port: 3306 }],
    ['127.0.0.1:6379', { host: '127.0.0.1', port: 6379 }],
    ['[::1]:6379', { host: '::1', port: 6379 }],
    ['[::ffff:127.0.0.1]:6379', { host: '127.0.0.1', port: 6379 }],
    ['[0:0:0:0:0:0:0:1]:80', { host: '::1', port: 80 }],
    ['[FE80::1%eth0]:80', { host: 'fe80::1%eth0', port: 80 }],
    [' localhost:8125 ', { host: 'localhost', port: 8125 }],
    [{ host: '::1', port: '6379' }, { host: '::1', port: 6379 }],
    [{ host: '[::1]', port: 6379 }, { host: '::1', port: 6379 }],
    ['unix:/run/app.sock', { path: '/run/app.sock' }],
    ['/run/../run/app.sock', { path: '/run/app.sock' }],
    [{ path: '/tmp/x.sock' }, { path: '/tmp/x.sock' }],
  ] as const)('%j is %j', (input, expected) => {
    expect(parseDestination(input)).toEqual(expected);
  });

  it.each(['localhost', 'localhost:', 'localhost:0', 'localhost:65536', 'localhost:80x', '::1:80', '[db]:80', ':80', 'a b:80', 'unix:', 'user@host:80', { host: 'h' }, { port: 80 }, 42])(
    'refuses %j with MG_ERR_EGRESS_INVALID',
    (input) => {
      expect(() => parseDestination(input as never)).toThrow(expect.objectContaining({ code: 'MG_ERR_EGRESS_INVALID' }));
    },
  );

  it('spells destinations the way it reads them', () => {
    for (const text of ['db.internal:3306', '127.0.0.1:6379', '[::1]:6379', 'unix:/run/app.sock']) expect(describeDestination(parseDestination(text))).toBe(text);
  });
});

describe('canonicalHost', () => {
  it('interprets IP addresses only as net.isIP reads them', () => {
    expect(canonicalHost('::FFFF:7f00:1')).toBe('127.0.0.1');
    expect(canonicalHost('0:0::1')).toBe('::1');
    // Not IP addresses for net: hostnames, checked by what they resolve to.
    expect(canonicalHost('2130706433')).toBe('2130706433');
    expect(canonicalHost('127.1')).toBe('127.1');
    expect(canonicalHost('LOCALHOST.')).toBe('localhost');
  });
});

describe('AllowList', () => {
  const list = new AllowList();
  list.add(parseDestination('127.0.0.1:6379'), 'origin Redis', 'redis');
  list.add(parseDestination('db.internal:3306'), 'the database', 'db');
  list.add(parseDestination('unix:/run/app.sock'), 'sidecar', 'egress.allow');

  it('matches an address in any spelling of the same address, and that port only', () => {
    expect(list.address('127.0.0.1', 6379)?.by).toBe('redis');
    expect(list.address('::ffff:127.0.0.1', 6379)?.by).toBe('redis');
    expect(list.address('127.0.0.1', 6380)).toBeUndefined();
    expect(list.address('::1', 6379)).toBeUndefined();
    expect(list.address('0.0.0.0', 6379)).toBeUndefined();
  });

  it('matches a hostname by name, never by an address, and an address entry never by a name', () => {
    expect(list.name('DB.internal.', 3306)?.by).toBe('db');
    expect(list.name('db.internal', 3307)).toBeUndefined();
    expect(list.address('db.internal', 3306)).toBeUndefined();
    expect(list.name('localhost', 6379)).toBeUndefined();
  });

  it('matches a Unix socket by its resolved path', () => {
    expect(list.path('/run/app.sock')?.reason).toBe('sidecar');
    expect(list.path('/run/./app.sock')?.reason).toBe('sidecar');
    expect(list.path('/run/app.sock2')).toBeUndefined();
  });
});
