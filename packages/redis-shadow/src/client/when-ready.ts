import { once } from 'node:events';

/** The parts of an ioredis client readiness needs. */
export interface Connectable {
  readonly status: string;
  once(event: string, listener: (...args: unknown[]) => void): unknown;
  off(event: string, listener: (...args: unknown[]) => void): unknown;
}

/**
 * Resolves when the connection is ready: ioredis writes commands before its own handshake (SELECT,
 * the INFO ready check) has run, and a MULTI sent then would take the handshake into the
 * transaction. Rejects when the connection has ended for good.
 */
export async function whenReady(client: Connectable): Promise<void> {
  if (client.status === 'ready') return;
  if (client.status === 'end') throw new Error('the connection has ended');
  const ended = new Promise<never>((_, reject) => {
    const onEnd = (): void => reject(new Error('the connection ended before it was ready'));
    client.once('end', onEnd);
    void once(client as never, 'ready').then(() => client.off('end', onEnd));
  });
  await Promise.race([once(client as never, 'ready'), ended]);
}
