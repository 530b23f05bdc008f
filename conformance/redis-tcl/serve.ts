/**
 * Serves a fresh memory engine over RESP on a free loopback port for Redis' own Tcl test suite
 * (run.sh starts one per unit). Prints `port <n>` once listening; stops on SIGTERM/SIGINT or when
 * its standard input closes (the runner went away).
 *
 * The engine is the package's own, with the few framework commands of harness-engine.ts.
 * Imports the engine from the package's sources: `@mirrorguard/*` is resolved to `packages/<name>/src`
 * (as vitest's aliases do), so nothing needs building first.
 */
import { registerHooks } from 'node:module';

const packages = new URL('../../packages/', import.meta.url);
registerHooks({
  resolve(specifier, context, nextResolve) {
    const name = /^@mirrorguard\/([a-z-]+)$/.exec(specifier)?.[1];
    return name ? nextResolve(new URL(`${name}/src/index.ts`, packages).href, context) : nextResolve(specifier, context);
  },
});

const { serveMemoryEngine } = await import('../../packages/redis-shadow/src/memory/memory-server.ts');
const { createHarnessEngine } = await import('./harness-engine.ts');
const server = await serveMemoryEngine({ engine: createHarnessEngine(), host: '127.0.0.1', port: 0 });
process.stdout.write(`port ${server.port}\n`);

const stop = (): void => {
  void server.close().then(() => process.exit(0));
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
process.stdin.on('end', stop);
process.stdin.resume();
