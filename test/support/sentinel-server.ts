import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SeenRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
}

/** An HTTP server on loopback that records every request it receives and answers from `answer`. */
export interface SentinelServer {
  readonly origin: string;
  readonly seen: SeenRequest[];
  close(): Promise<void>;
}

export type Answer = (request: SeenRequest, count: number) => { status?: number; headers?: Record<string, string>; body?: string | Buffer };

const echo: Answer = (request, count) => ({
  headers: { 'content-type': 'application/json', 'x-served': String(count) },
  body: JSON.stringify({ method: request.method, url: request.url, body: request.body, count }),
});

export async function startSentinelServer(answer: Answer = echo): Promise<SentinelServer> {
  const seen: SeenRequest[] = [];
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const entry = { method: request.method ?? '', url: request.url ?? '', headers: request.headers, body: Buffer.concat(chunks).toString('utf8') };
      seen.push(entry);
      const { status = 200, headers = {}, body = '' } = answer(entry, seen.length);
      response.writeHead(status, headers);
      response.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
