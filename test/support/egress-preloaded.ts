import dgram from 'node:dgram';
import { once } from 'node:events';
import net from 'node:net';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { getEgressLockdown, type EgressLockdown } from '@mirrorguard/core';

// The egress preload, run in this test process the way `--require @mirrorguard/core/egress-preload`
// runs it in a mirror: a fresh load of its module each time (so it installs again after a test's
// `dispose()`), with MIRROR=1. Only the preload makes a lockdown a strict mirror accepts
// (`preloaded`): `installEgressLockdown()` from code does not, nor the preload with a socket open.
const PRELOAD_FILE = fileURLToPath(new URL('../../packages/core/src/egress/egress-preload.ts', import.meta.url));
const PRELOAD = pathToFileURL(PRELOAD_FILE).href;
let loads = 0;

/** The sockets of this process still open (stdio aside): those of earlier tests that are closing. */
function openSockets(): Array<net.Socket | dgram.Socket> {
  const active = (process as unknown as { _getActiveHandles(): unknown[] })._getActiveHandles();
  return active.filter((handle): handle is net.Socket | dgram.Socket => {
    if (handle instanceof dgram.Socket) return true;
    if (!(handle instanceof net.Socket)) return false;
    const fd = (handle as unknown as { _handle?: { fd?: number } | null })._handle?.fd;
    return !(typeof fd === 'number' && fd >= 0 && fd <= 2);
  });
}

/**
 * Installs the lockdown through the preload, as at the start of a mirror: first waits for the
 * sockets earlier tests left closing (their `close`), then loads the preload. Fails when the
 * lockdown is not `preloaded`.
 */
export async function preloadEgressLockdown(): Promise<EgressLockdown> {
  for (let open = openSockets(); open.length > 0; open = openSockets()) {
    await Promise.all(open.map((socket) => once(socket, 'close')));
  }
  const saved = { MIRROR: process.env.MIRROR, MIRROR_PROFILE: process.env.MIRROR_PROFILE, NODE_OPTIONS: process.env.NODE_OPTIONS };
  const execArgv = process.execArgv;
  process.env.MIRROR = '1';
  delete process.env.MIRROR_PROFILE;
  // As node's options of a mirror started with the preload first (the preload checks that it is).
  delete process.env.NODE_OPTIONS;
  process.execArgv = ['--require', PRELOAD_FILE];
  // And as node's module list at the start of a fresh process: none of the networking modules this
  // process loaded. (The preload's first module reads it once per module graph, at its first load here.)
  const moduleLoadList = Object.getOwnPropertyDescriptor(process, 'moduleLoadList');
  Object.defineProperty(process, 'moduleLoadList', { ...moduleLoadList, value: [] });
  try {
    loads += 1;
    await import(/* @vite-ignore */ `${PRELOAD}?load=${loads}`);
  } finally {
    if (moduleLoadList !== undefined) Object.defineProperty(process, 'moduleLoadList', moduleLoadList);
    process.execArgv = execArgv;
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
  const lockdown = getEgressLockdown();
  if (lockdown?.preloaded !== true) {
    throw new Error(`the preload did not make a preloaded lockdown (installed by ${lockdown?.installedBy ?? 'nobody'}, ${lockdown?.openAtInstall ?? 0} socket(s) open; ran before it: ${lockdown?.ranBefore?.join('; ') ?? 'nothing'})`);
  }
  return lockdown;
}
