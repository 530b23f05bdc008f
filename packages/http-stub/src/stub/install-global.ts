import { getGlobalDispatcher, setGlobalDispatcher, type Dispatcher } from 'undici';

// undici keeps the process-wide dispatcher on globalThis under these symbols: `.2` for undici ≥ 8,
// `.1` (a wrapper for the older handler API) for undici 7 and the undici inside Node's own fetch.
const GLOBAL_DISPATCHERS = [Symbol.for('undici.globalDispatcher.1'), Symbol.for('undici.globalDispatcher.2')];

/**
 * Makes `dispatcher` the process-wide one — for Node's built-in fetch and for npm undici's fetch and
 * request — and returns how to put back exactly what was there before.
 */
export function installGlobalDispatcher(dispatcher: Dispatcher): () => void {
  const global = globalThis as unknown as Record<symbol, unknown>;
  const before = GLOBAL_DISPATCHERS.map((symbol) => ({ symbol, had: symbol in global, value: global[symbol] }));
  const previous = getGlobalDispatcher();
  setGlobalDispatcher(dispatcher);
  return () => {
    setGlobalDispatcher(previous);
    // setGlobalDispatcher wraps anew; the exact objects that were there are restored.
    for (const { symbol, had, value } of before) if (had) global[symbol] = value;
  };
}
