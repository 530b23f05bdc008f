/** The parts of an ioredis client readiness needs. */
export interface Connectable {
  readonly status: string;
  once(event: string, listener: (...args: unknown[]) => void): unknown;
  off(event: string, listener: (...args: unknown[]) => void): unknown;
  connect?(): Promise<void>;
}

/**
 * Resolves when the connection is ready: ioredis writes commands before its own handshake (SELECT,
 * the INFO ready check) has run, and a MULTI sent then would take the handshake into the
 * transaction. Rejects when the connection has ended for good. A lazy connection is connected.
 * Every listener is removed when it settles, and nothing is left unhandled.
 */
export function whenReady(client: Connectable): Promise<void> {
  if (client.status === 'ready') return Promise.resolve();
  if (client.status === 'end') return Promise.reject(new Error('the connection has ended'));
  if (client.status === 'wait') client.connect?.().catch(() => undefined);
  return new Promise<void>((resolve, reject) => {
    const settle = (): void => {
      client.off('ready', onReady);
      client.off('end', onEnd);
    };
    const onReady = (): void => {
      settle();
      resolve();
    };
    const onEnd = (): void => {
      settle();
      reject(new Error('the connection ended before it was ready'));
    };
    client.once('ready', onReady);
    client.once('end', onEnd);
  });
}
