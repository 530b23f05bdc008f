import net, { type AddressInfo } from 'node:net';
import { installEgressLockdown } from '@mirrorguard/core';
import { Agent, request } from 'undici';
import { alternatingRounds, closedLoop } from '../support/closed-loop.ts';
import { median, pairedRatio } from '../support/load.ts';
import { printTable } from '../support/table.ts';

export interface EgressResult {
  /** A new TCP connection per call (connect, one byte each way, close): what the lockdown checks. */
  readonly connectPerSecond: { readonly plain: number; readonly locked: number; readonly ratio: number };
  /** CPU time of this process per connection, in microseconds. */
  readonly connectCpuMicros: { readonly plain: number; readonly locked: number };
  /** Requests on kept-alive connections (undici, 16 concurrent): the lockdown sees none of them. */
  readonly keepAlivePerSecond: { readonly plain: number; readonly locked: number; readonly ratio: number };
}

function connectOnce(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write('x'));
    socket.once('data', () => {
      socket.destroy();
      resolve();
    });
    socket.once('error', reject);
  });
}

/**
 * The egress lockdown's cost against no lockdown, in alternating rounds (installed for the locked
 * round and disposed after it). It checks each connection as it starts — at the socket and at the
 * handle — and nothing per request or per byte: a new connection per call shows the whole cost,
 * requests on kept-alive connections show none.
 */
export async function egressBench({ rounds = 4, seconds = 2 } = {}): Promise<EgressResult> {
  const server = net.createServer((socket) => socket.on('data', () => socket.end('y')).on('error', () => undefined));
  const http = (await import('node:http')).createServer((request_, response) => {
    request_.resume();
    request_.on('end', () => response.end('ok'));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const httpPort = (http.address() as AddressInfo).port;
  const allow = [`127.0.0.1:${port}`, `127.0.0.1:${httpPort}`];
  const connect = { plain: [] as number[], locked: [] as number[] };
  const cpu = { plain: [] as number[], locked: [] as number[] };
  const keepAlive = { plain: [] as number[], locked: [] as number[] };
  try {
    await connectOnce(port); // warm-up
    await alternatingRounds(['plain', 'locked'] as const, rounds, async (variant) => {
      const lockdown = variant === 'locked' ? installEgressLockdown({ allow, by: 'bench' }) : undefined;
      try {
        const connections = await closedLoop(() => connectOnce(port), { seconds, workers: 8, keys: 1 });
        connect[variant].push(connections.perSecond);
        cpu[variant].push(connections.cpuMicrosPerOperation);
        const agent = new Agent({ connections: 16 });
        const requests = await closedLoop(
          async () => (await request(`http://127.0.0.1:${httpPort}/`, { dispatcher: agent })).body.text(),
          { seconds, workers: 16, keys: 1 },
        );
        keepAlive[variant].push(requests.perSecond);
        await agent.close();
      } finally {
        lockdown?.dispose();
      }
    });
  } finally {
    await new Promise((resolve) => server.close(resolve));
    http.closeAllConnections();
    await new Promise((resolve) => http.close(resolve));
  }
  const result: EgressResult = {
    connectPerSecond: { plain: median(connect.plain), locked: median(connect.locked), ratio: pairedRatio(connect.plain, connect.locked) },
    connectCpuMicros: { plain: median(cpu.plain), locked: median(cpu.locked) },
    keepAlivePerSecond: { plain: median(keepAlive.plain), locked: median(keepAlive.locked), ratio: pairedRatio(keepAlive.plain, keepAlive.locked) },
  };
  printTable(
    `Egress lockdown: its cost per connection and per request, on loopback, ${rounds} alternating rounds of ${seconds} s ("vs" is the median of per-round ratios)`,
    ['workload', 'no lockdown', 'locked down', 'locked vs none'],
    [
      ['new TCP connection per call (8 concurrent), calls / s', result.connectPerSecond.plain.toFixed(0), result.connectPerSecond.locked.toFixed(0), `${result.connectPerSecond.ratio.toFixed(2)}×`],
      ['  client CPU per connection, µs', result.connectCpuMicros.plain.toFixed(1), result.connectCpuMicros.locked.toFixed(1), ''],
      ['HTTP requests on kept-alive connections (undici, 16 concurrent), requests / s', result.keepAlivePerSecond.plain.toFixed(0), result.keepAlivePerSecond.locked.toFixed(0), `${result.keepAlivePerSecond.ratio.toFixed(2)}×`],
    ],
  );
  return result;
}
