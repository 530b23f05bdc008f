import { describe, expect, it } from 'vitest';
import { MirrorGuardError } from './mirrorguard-error.ts';

describe('MirrorGuardError', () => {
  it('carries a code, a cause and aggregated errors', () => {
    const cause = new Error('socket closed');
    const error = new MirrorGuardError('MG_ERR_CLOSE', 'closing failed', { cause, errors: [cause] });
    expect(error).toBeInstanceOf(Error);
    expect(error.code).toBe('MG_ERR_CLOSE');
    expect(error.cause).toBe(cause);
    expect(error.errors).toEqual([cause]);
    expect(error.name).toBe('MirrorGuardError');
    expect(String(error)).toBe('MirrorGuardError: closing failed');
  });

  it('recognises an error branded by another copy of the class', () => {
    // What a second install would construct: a different class whose instances carry the shared brand.
    class OtherCopy extends Error {
      constructor() {
        super('from another install');
        Object.defineProperty(this, Symbol.for('mirrorguard.error'), { value: true });
      }
    }
    expect(new OtherCopy()).toBeInstanceOf(MirrorGuardError);
    expect(new Error('plain')).not.toBeInstanceOf(MirrorGuardError);
    expect(null).not.toBeInstanceOf(MirrorGuardError);
    expect({ code: 'MG_ERR_CLOSE' }).not.toBeInstanceOf(MirrorGuardError);
  });

  it('keeps the prototype check for subclasses', () => {
    class ShadowDownError extends MirrorGuardError {}
    const sub = new ShadowDownError('MG_ERR_SHADOW_DOWN', 'down');
    expect(sub).toBeInstanceOf(ShadowDownError);
    expect(sub).toBeInstanceOf(MirrorGuardError);
    expect(new MirrorGuardError('MG_ERR_CLOSE', 'x')).not.toBeInstanceOf(ShadowDownError);
  });
});
