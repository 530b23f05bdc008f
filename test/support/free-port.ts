import { createServer } from 'node:net';

/** Ports handed out in this process: never again, as a killed server may be restarted on its own port. */
const taken = new Set<number>();

/** A loopback port nothing listens on now, and that no earlier call of this process returned. */
export async function freePort(): Promise<number> {
  for (;;) {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    await new Promise((resolve) => server.close(resolve));
    // A killed server's port is free until its restart: another server there would take its clients.
    if (taken.has(port)) continue;
    taken.add(port);
    return port;
  }
}
