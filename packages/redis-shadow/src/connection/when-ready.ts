import { CONNECTION_CLOSED, GAVE_UP, markSide, type Side } from './side-connection.ts';

/** The parts of an ioredis client readiness needs. */
export interface Connectable {
  readonly status: string;
  once(event: string | symbol, listener: (...args: unknown[]) => void): unknown;
  off(event: string | symbol, listener: (...args: unknown[]) => void): unknown;
  connect?(): Promise<void>;
  readonly side?: Side;
}

/**
 * Resolves when the connection is ready: ioredis writes commands before its own handshake (SELECT,
 * the INFO ready check) has run, and a MULTI sent then would take the handshake into the
 * transaction. Rejects when a command queued on the connection now would fail: the connection
 * ended for good, or (a SideConnection) gave up on its queued commands — with ioredis' own error,
 * marked with the connection's side. A lazy connection is connected. Every listener is removed
 * when it settles, and nothing is left unhandled.
 */
export function whenReady(client: Connectable): Promise<void> {
  const failed = (error: Error): Error => (client.side === undefined ? error : markSide(error, client.side));
  if (client.status === 'ready') return Promise.resolve();
  if (client.status === 'end') return Promise.reject(failed(new Error(CONNECTION_CLOSED)));
  if (client.status === 'wait') client.connect?.().catch(() => undefined);
  return new Promise<void>((resolve, reject) => {
    const settle = (): void => {
      client.off('ready', onReady);
      client.off('end', onEnd);
      client.off(GAVE_UP, onGaveUp);
    };
    const onReady = (): void => {
      settle();
      resolve();
    };
    const onEnd = (): void => {
      settle();
      reject(failed(new Error(CONNECTION_CLOSED)));
    };
    const onGaveUp = (error: unknown): void => {
      settle();
      reject(failed(error as Error));
    };
    client.once('ready', onReady);
    client.once('end', onEnd);
    client.once(GAVE_UP, onGaveUp);
  });
}
