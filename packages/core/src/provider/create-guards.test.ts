import { describe, expect, expectTypeOf, it } from 'vitest';
import { createJournal } from '../journal/journal.ts';
import { MemorySink } from '../journal/memory-sink.ts';
import { createGuards } from './create-guards.ts';
import { defineProvider } from './define-provider.ts';

class FakeClient {
  closed = false;
  readonly kind: string;
  constructor(kind: string) {
    this.kind = kind;
  }
}

function clientProvider(log: string[], name: string) {
  return defineProvider<FakeClient>({
    live: () => new FakeClient(`${name}:live`),
    mirror: async ({ journal }) => {
      journal.record({ dependency: name, action: 'passed', operation: 'connect', reason: 'built' });
      return new FakeClient(`${name}:mirror`);
    },
    close: (client) => {
      client.closed = true;
      log.push(`close ${name}`);
    },
  });
}

describe('createGuards', () => {
  it('builds every provider for the profile from the environment, typed', async () => {
    const log: string[] = [];
    const guards = await createGuards({
      env: { MIRROR: '1' },
      providers: { db: clientProvider(log, 'db'), cache: clientProvider(log, 'cache') },
      journal: { sinks: [new MemorySink()] },
    });
    expectTypeOf(guards.db).toEqualTypeOf<FakeClient>();
    expect(guards.profile).toBe('mirror');
    expect(guards.db.kind).toBe('db:mirror');
    expect(guards.cache.kind).toBe('cache:mirror');
    expect(guards.journal.profile).toBe('mirror');
    await guards.close();
    expect(log).toEqual(['close cache', 'close db']);
  });

  it('hands each build the journal, which stamps the profile', async () => {
    const memory = new MemorySink();
    const journal = createJournal({ profile: 'mirror', sinks: [memory] });
    const guards = await createGuards({ profile: 'mirror', journal, providers: { db: clientProvider([], 'db') } });
    expect(guards.journal).toBe(journal);
    expect(memory.events()).toMatchObject([{ dependency: 'db', profile: 'mirror', operation: 'connect' }]);
  });

  it('uses the profile-specific close before the shared one', async () => {
    const log: string[] = [];
    const provider = defineProvider<string>({
      live: { build: () => 'x', close: () => void log.push('live close') },
      close: () => void log.push('shared close'),
    });
    const guards = await createGuards({ profile: 'live', providers: { thing: provider } });
    await guards.close();
    expect(log).toEqual(['live close']);
  });

  it('fails at start-up, before building anything, when a provider lacks the profile', async () => {
    const log: string[] = [];
    const liveOnly = defineProvider({ live: () => log.push('built live-only') });
    await expect(
      createGuards({ profile: 'test', providers: { db: clientProvider(log, 'db'), mail: liveOnly, sms: defineProvider({}) } }),
    ).rejects.toMatchObject({
      code: 'MG_ERR_PROFILE_UNSUPPORTED',
      message: 'no implementation for profile "test" in provider(s): db (supports live, mirror); mail (supports live); sms (supports no profile)',
    });
    expect(log).toEqual([]);
  });

  it('closes what it built when a later build fails', async () => {
    const log: string[] = [];
    const broken = defineProvider({ live: () => Promise.reject(new Error('connection refused')) });
    const failure = createGuards({ profile: 'live', providers: { db: clientProvider(log, 'db'), redis: broken } });
    await expect(failure).rejects.toMatchObject({
      code: 'MG_ERR_PROVIDER_BUILD',
      message: 'provider "redis" failed to build in profile "live": connection refused',
      cause: new Error('connection refused'),
    });
    expect(log).toEqual(['close db']);
  });

  it('attempts every close and aggregates the failures', async () => {
    const log: string[] = [];
    const failingClose = (name: string) =>
      defineProvider({
        live: () => name,
        close: () => {
          log.push(`close ${name}`);
          throw new Error(`${name} hung up`);
        },
      });
    const guards = await createGuards({
      profile: 'live',
      providers: { a: failingClose('a'), b: clientProvider(log, 'b'), c: failingClose('c') },
    });
    const closing = guards.close();
    await expect(closing).rejects.toMatchObject({
      code: 'MG_ERR_CLOSE',
      message: 'failed to close: c (c hung up), a (a hung up)',
      errors: [new Error('c hung up'), new Error('a hung up')],
    });
    expect(log).toEqual(['close c', 'close b', 'close a']);
    expect(guards.close()).toBe(closing);
  });

  it.each(['profile', 'journal', 'close'])('refuses the reserved name %s', async (name) => {
    const providers = { [name]: defineProvider({ live: () => 1 }) } as never;
    await expect(createGuards({ profile: 'live', providers })).rejects.toMatchObject({ code: 'MG_ERR_PROVIDER_INVALID' });
  });

  it('refuses reserved names in the types too', async () => {
    // @ts-expect-error `close` is reserved
    await expect(createGuards({ profile: 'live', providers: { close: defineProvider({ live: () => 1 }) } })).rejects.toThrow();
  });

  it('refuses something that is not a provider', async () => {
    const providers = { db: { live: () => 1 } } as never;
    await expect(createGuards({ profile: 'live', providers })).rejects.toMatchObject({
      code: 'MG_ERR_PROVIDER_INVALID',
      message: 'providers.db is not a provider: make it with defineProvider()',
    });
  });

  it('refuses an unknown profile option and a journal of another profile', async () => {
    await expect(createGuards({ profile: 'shadow' as never, providers: {} })).rejects.toMatchObject({ code: 'MG_ERR_PROFILE_INVALID' });
    const journal = createJournal({ profile: 'live' });
    await expect(createGuards({ profile: 'mirror', journal, providers: {} })).rejects.toMatchObject({ code: 'MG_ERR_PROFILE_CONFLICT' });
  });

  it('rejects a profile implementation without a build function', () => {
    expect(() => defineProvider({ mirror: {} as never })).toThrow(expect.objectContaining({ code: 'MG_ERR_PROVIDER_INVALID' }));
  });
});
