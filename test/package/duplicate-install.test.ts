import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../support/workspace-packages.ts';

// Two copies of @mirrorguard/core in one process (two installs, one loaded as ESM and the other as
// CommonJS): they must share one request context and recognise each other's errors.
describe('@mirrorguard/core installed twice', () => {
  it('shares the request context and the error brand across copies and module systems', () => {
    const base = mkdtempSync(join(tmpdir(), 'mirrorguard-twice-'));
    for (const copy of ['a', 'b']) {
      const target = join(base, copy, 'node_modules', '@mirrorguard', 'core');
      cpSync(join(ROOT, 'packages', 'core', 'package.json'), join(target, 'package.json'));
      cpSync(join(ROOT, 'packages', 'core', 'dist'), join(target, 'dist'), { recursive: true });
    }
    const script = `
      import { createRequire } from 'node:module';
      const a = await import(${JSON.stringify(join(base, 'a', 'node_modules', '@mirrorguard', 'core', 'dist', 'index.mjs'))});
      const b = createRequire(${JSON.stringify(join(base, 'b', 'index.js'))})('@mirrorguard/core');
      const out = {
        distinctCopies: a.getRequestContext !== b.getRequestContext,
        seenByB: await a.withRequestContext({ requestId: 'from-a' }, async () => {
          await new Promise((resolve) => setTimeout(resolve, 5));
          return b.getRequestContext()?.requestId;
        }),
        seenByA: b.withRequestContext({ requestId: 'from-b' }, () => a.getRequestContext()?.requestId),
        errorOfAIsB: new a.MirrorGuardError('MG_ERR_CLOSE', 'x') instanceof b.MirrorGuardError,
        errorOfBIsA: new b.MirrorGuardError('MG_ERR_CLOSE', 'x') instanceof a.MirrorGuardError,
        plainErrorIsA: new Error('x') instanceof a.MirrorGuardError,
        providerOfAFitsB: b.isProvider(a.defineProvider({ live: () => 1 })),
      };
      console.log(JSON.stringify(out));
    `;
    const output = execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: base, encoding: 'utf8' });
    expect(JSON.parse(output)).toEqual({
      distinctCopies: true,
      seenByB: 'from-a',
      seenByA: 'from-b',
      errorOfAIsB: true,
      errorOfBIsA: true,
      plainErrorIsA: false,
      providerOfAFitsB: true,
    });
  });
});
