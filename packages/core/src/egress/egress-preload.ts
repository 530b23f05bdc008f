// The egress lockdown from the first line of the process: `node --require @mirrorguard/core/egress-preload app.js`
// (or --import, or NODE_OPTIONS). Loaded before the app, it locks the process down in the mirror
// profile before any module can connect at load time; createGuards later declares the providers'
// destinations on the same lockdown. Workers run it too: the worker guard adds it to their
// `--require`, and they inherit it when the process was started with it.
// First: it records what was loaded before the preload, before this file's other imports load anything.
import { networkingLoadedBefore } from './preload-snapshot.ts';
import { fileURLToPath } from 'node:url';
import { getEnvironmentData, isMainThread } from 'node:worker_threads';
import { MirrorGuardError } from '../errors/mirrorguard-error.ts';
import { resolveProfile } from '../profile/resolve-profile.ts';
import { EGRESS_CHANNEL, installPreloadedLockdown, type EgressSnapshot } from './egress-lockdown.ts';

/** Destinations for connections made before createGuards: `host:port`, `[v6]:port` or `unix:/path`, separated by commas or spaces. */
export const ALLOW_VARIABLE = 'MIRRORGUARD_EGRESS_ALLOW';

function allowFromEnvironment(): string[] {
  const raw = process.env[ALLOW_VARIABLE] ?? '';
  return raw.split(/[\s,]+/).filter((entry) => entry !== '');
}

/** This file: the bundle's (dist/egress-preload.cjs) or the source's. */
function ownFile(): string | undefined {
  try {
    return typeof __filename === 'string' ? __filename : fileURLToPath(import.meta.url);
  } catch {
    return undefined;
  }
}

function preload(): void {
  // A worker started by a locked-down thread gets that thread's grants and settings as environment data.
  const snapshot = isMainThread ? undefined : (getEnvironmentData(EGRESS_CHANNEL) as EgressSnapshot | undefined);
  if (snapshot === undefined && resolveProfile() !== 'mirror') return;
  try {
    // The preloaded install: the one strict start-up accepts (`preloaded`, when nothing was open before it).
    installPreloadedLockdown({ allow: allowFromEnvironment(), by: ALLOW_VARIABLE, ...(snapshot !== undefined && { snapshot }) }, { self: ownFile(), loadedBefore: networkingLoadedBefore });
  } catch (error) {
    if (error instanceof MirrorGuardError && error.code === 'MG_ERR_EGRESS_INVALID') {
      throw new MirrorGuardError('MG_ERR_EGRESS_INVALID', `${ALLOW_VARIABLE}: ${error.message}`, { cause: error });
    }
    throw error;
  }
}

preload();
