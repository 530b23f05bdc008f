import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { MirrorGuardError } from '../errors/mirrorguard-error.ts';
import { bindRequestContext, getRequestContext, withRequestContext } from './request-context.ts';

describe('request context', () => {
  it('is undefined outside a request', () => {
    expect(getRequestContext()).toBeUndefined();
  });

  it('follows awaits, timers and promise chains inside withRequestContext', async () => {
    const seen = await withRequestContext({ requestId: 'job-1' }, async () => {
      const ids = [getRequestContext()?.requestId];
      await sleep(5);
      ids.push(getRequestContext()?.requestId);
      await new Promise<void>((resolve) => setImmediate(resolve));
      ids.push(getRequestContext()?.requestId);
      ids.push(await Promise.resolve().then(() => getRequestContext()?.requestId));
      return ids;
    });
    expect(seen).toEqual(['job-1', 'job-1', 'job-1', 'job-1']);
    expect(getRequestContext()).toBeUndefined();
  });

  it('keeps concurrent contexts apart', async () => {
    const ids = Array.from({ length: 50 }, (_, i) => `req-${i}`);
    const results = await Promise.all(
      ids.map((requestId) =>
        withRequestContext({ requestId }, async () => {
          await sleep(Math.random() * 10);
          return getRequestContext()?.requestId;
        }),
      ),
    );
    expect(results).toEqual(ids);
  });

  it('restores the outer context after a nested one', () => {
    withRequestContext({ requestId: 'outer' }, () => {
      withRequestContext({ requestId: 'inner' }, () => expect(getRequestContext()?.requestId).toBe('inner'));
      expect(getRequestContext()?.requestId).toBe('outer');
    });
  });

  it('builds the id from headers and records method and path', () => {
    const context = withRequestContext(
      { headers: { 'x-request-id': 'from-header' }, method: 'GET', path: '/orders' },
      () => getRequestContext(),
    );
    expect(context).toEqual({ requestId: 'from-header', requestIdSource: 'x-request-id', method: 'GET', path: '/orders' });
    expect(Object.isFrozen(context)).toBe(true);
  });

  it('rejects an explicit id that cannot be journaled safely', () => {
    expect(() => withRequestContext({ requestId: 'two words' }, () => 0)).toThrow(MirrorGuardError);
    expect(() => withRequestContext({ requestId: '' }, () => 0)).toThrow(/request id "" is not accepted/);
  });

  it('binds a callback to the context it was bound in, or to none', async () => {
    const inA = withRequestContext({ requestId: 'a' }, () => bindRequestContext((n: number) => `${getRequestContext()?.requestId}:${n}`));
    const outside = bindRequestContext(() => getRequestContext()?.requestId);
    // Called from inside another request, as a pool calls a waiter back from a release.
    const [fromB, outsideFromB] = await withRequestContext({ requestId: 'b' }, async () => {
      await sleep(1);
      return [inA(7), outside()];
    });
    expect(fromB).toBe('a:7');
    expect(outsideFromB).toBeUndefined();
  });

  it('shares one storage per process under a registry-wide key', () => {
    const storage = (globalThis as Record<symbol, unknown>)[Symbol.for('mirrorguard.requestContext.storage')];
    expect(storage).toBeDefined();
    expect(Object.keys(globalThis)).not.toContain(Symbol.for('mirrorguard.requestContext.storage'));
  });
});
