import { once } from 'node:events';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';

/**
 * Any other socket of the process: one connected to a local server the test controls, with the
 * server's end of it (`side`, to make `raw` read whatever the test writes).
 */
export async function socketPair(): Promise<{ raw: Socket; side: Socket; close(): void }> {
  const server = createServer();
  const accepted = once(server, 'connection') as Promise<[Socket]>;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const raw = connect((server.address() as AddressInfo).port, '127.0.0.1');
  raw.on('error', () => undefined);
  const [[side]] = await Promise.all([accepted, once(raw, 'connect')]);
  return {
    raw,
    side,
    close() {
      raw.destroy();
      side.destroy();
      server.close();
    },
  };
}
