import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT: string = fileURLToPath(new URL('../..', import.meta.url));

export interface WorkspacePackage {
  readonly name: string;
  readonly dir: string;
}

/** The publishable packages under packages/. */
export function workspacePackages(): WorkspacePackage[] {
  const base = join(ROOT, 'packages');
  return readdirSync(base)
    .map((entry) => join(base, entry))
    .filter((dir) => existsSync(join(dir, 'package.json')))
    .map((dir) => ({ dir, manifest: JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name: string; private?: boolean } }))
    .filter(({ manifest }) => manifest.private !== true)
    .map(({ dir, manifest }) => ({ name: manifest.name, dir }));
}

/**
 * Puts the built packages (package.json and dist, as npm would publish them) into `modules`
 * (a consumer's node_modules), so a probe run by another Node or beside other dependencies uses them.
 */
export function installBuiltPackages(modules: string, names: readonly string[]): void {
  for (const name of names) {
    const target = join(modules, '@mirrorguard', name);
    mkdirSync(target, { recursive: true });
    cpSync(join(ROOT, 'packages', name, 'package.json'), join(target, 'package.json'));
    cpSync(join(ROOT, 'packages', name, 'dist'), join(target, 'dist'), { recursive: true });
  }
}
