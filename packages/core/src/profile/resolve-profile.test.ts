import { describe, expect, it } from 'vitest';
import { MirrorGuardError } from '../errors/mirrorguard-error.ts';
import { resolveProfile, type ProfileEnv } from './resolve-profile.ts';

describe('resolveProfile', () => {
  it('is live when nothing is set', () => {
    expect(resolveProfile({})).toBe('live');
  });

  it.each<[ProfileEnv, string]>([
    [{ MIRROR: '1' }, 'mirror'],
    [{ MIRROR: 'true' }, 'mirror'],
    [{ MIRROR: 'yes' }, 'mirror'],
    [{ MIRROR: 'on' }, 'mirror'],
    [{ MIRROR: ' TRUE ' }, 'mirror'],
    [{ MIRROR: 'On' }, 'mirror'],
    [{ MIRROR: '1', MIRROR_PROFILE: 'mirror' }, 'mirror'],
    [{ MIRROR: '1', MIRROR_PROFILE: '' }, 'mirror'],
    [{ MIRROR: '0' }, 'live'],
    [{ MIRROR: 'false' }, 'live'],
    [{ MIRROR: 'no' }, 'live'],
    [{ MIRROR: 'off' }, 'live'],
    [{ MIRROR: '' }, 'live'],
    [{ MIRROR: '0', MIRROR_PROFILE: 'live' }, 'live'],
    [{ MIRROR: '0', MIRROR_PROFILE: 'record' }, 'record'],
    [{ MIRROR: 'off', MIRROR_PROFILE: 'test' }, 'test'],
    [{ MIRROR_PROFILE: 'live' }, 'live'],
    [{ MIRROR_PROFILE: 'mirror' }, 'mirror'],
    [{ MIRROR_PROFILE: 'record' }, 'record'],
    [{ MIRROR_PROFILE: 'test' }, 'test'],
    [{ MIRROR_PROFILE: ' Record ' }, 'record'],
    [{ MIRROR_PROFILE: '' }, 'live'],
  ])('%j resolves to %s', (env, expected) => {
    expect(resolveProfile(env)).toBe(expected);
  });

  it.each<[ProfileEnv, string, RegExp]>([
    [{ MIRROR: 'maybe' }, 'MG_ERR_PROFILE_INVALID', /^MIRROR="maybe" is not accepted: use one of 1, true, yes, on, 0, false, no, off/],
    [{ MIRROR: '2' }, 'MG_ERR_PROFILE_INVALID', /^MIRROR="2" is not accepted/],
    [{ MIRROR: 'maybe', MIRROR_PROFILE: 'nope' }, 'MG_ERR_PROFILE_INVALID', /^MIRROR="maybe"/],
    [{ MIRROR_PROFILE: 'staging' }, 'MG_ERR_PROFILE_INVALID', /^MIRROR_PROFILE="staging" is not accepted: use one of live, mirror, record, test/],
    [{ MIRROR: '1', MIRROR_PROFILE: 'shadow' }, 'MG_ERR_PROFILE_INVALID', /^MIRROR_PROFILE="shadow"/],
    [{ MIRROR: '1', MIRROR_PROFILE: 'live' }, 'MG_ERR_PROFILE_CONFLICT', /MIRROR="1" selects the mirror profile but MIRROR_PROFILE="live"/],
    [{ MIRROR: 'yes', MIRROR_PROFILE: 'record' }, 'MG_ERR_PROFILE_CONFLICT', /MIRROR_PROFILE="record" names another/],
    [{ MIRROR: 'on', MIRROR_PROFILE: 'test' }, 'MG_ERR_PROFILE_CONFLICT', /MIRROR_PROFILE="test"/],
    [{ MIRROR: '0', MIRROR_PROFILE: 'mirror' }, 'MG_ERR_PROFILE_CONFLICT', /MIRROR="0" turns the mirror off but MIRROR_PROFILE="mirror" selects it/],
  ])('%j throws %s', (env, code, message) => {
    let caught: unknown;
    try {
      resolveProfile(env);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(MirrorGuardError);
    expect(caught).toMatchObject({ code, name: 'MirrorGuardError' });
    expect((caught as Error).message).toMatch(message);
  });

  it('reads process.env by default', () => {
    const saved = { MIRROR: process.env.MIRROR, MIRROR_PROFILE: process.env.MIRROR_PROFILE };
    try {
      process.env.MIRROR = '1';
      delete process.env.MIRROR_PROFILE;
      expect(resolveProfile()).toBe('mirror');
    } finally {
      for (const [name, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    }
  });
});
