// Which of node's networking modules are loaded (process.moduleLoadList). No imports: the preload's
// first module uses it before anything of the preload loads one.

/**
 * Node's networking modules, as process.moduleLoadList names them: any of them loaded means code that
 * could open a socket ran first. Not `net`: node loads it for stdio that is a pipe or a socket, as
 * soon as anything writes to stderr (a warning node itself prints while loading the preload).
 */
const NETWORKING = ['tls', 'dgram', 'child_process', 'http', 'https', 'http2', 'cluster', 'internal/deps/undici/undici'];

/** Those of them loaded now, as `node:http`; `except` names those to leave out (the preload's own: net, tls, dgram, child_process). */
export function networkingLoaded(except: readonly string[] = []): string[] {
  const list = (process as unknown as { moduleLoadList?: unknown }).moduleLoadList;
  if (!Array.isArray(list)) return [];
  const loaded = new Set(list.filter((entry): entry is string => typeof entry === 'string' && entry.startsWith('NativeModule ')).map((entry) => entry.slice('NativeModule '.length)));
  return NETWORKING.filter((name) => loaded.has(name) && !except.includes(name)).map((name) => (name.startsWith('internal/') ? `node's fetch (${name})` : `node:${name}`));
}
