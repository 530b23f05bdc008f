import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Agent, request } from 'undici';

export interface MirrorTarget {
  readonly name: string;
  readonly url: string;
}

/** What the proxy saw of one request: the primary's answer, and each mirror's (which no client got). */
export interface ProxiedExchange {
  readonly requestId: string;
  readonly method: string;
  readonly path: string;
  readonly status: number;
  readonly body: string;
  readonly mirrors: Record<string, { status: number; body: string } | { error: string }>;
}

export interface MirroringProxy {
  readonly url: string;
  readonly exchanges: ProxiedExchange[];
  /** Resolves once every mirrored copy sent so far has been answered (or failed). */
  settled(): Promise<void>;
  close(): Promise<void>;
}

// Hop-by-hop headers (RFC 9110 §7.6.1), the body's framing (the proxy sends the body whole) and
// Expect (the proxy has read the body already) are not forwarded.
const NOT_FORWARDED = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'proxy-connection', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer', 'host', 'content-length', 'expect']);

function forwardedHeaders(incoming: IncomingMessage, requestId: string, host: string): Record<string, string> {
  const named = new Set(String(incoming.headers.connection ?? '').split(',').map((name) => name.trim().toLowerCase()));
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(incoming.headers)) {
    if (value !== undefined && !NOT_FORWARDED.has(name) && !named.has(name)) headers[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  headers['x-request-id'] = requestId;
  headers.host = host;
  return headers;
}

/**
 * A front proxy that mirrors requests as Envoy's `request_mirror_policies` do: each request goes to
 * the primary, whose answer the client gets; a copy goes, fire and forget, to each mirror, with the
 * same `x-request-id` (one is generated when the client sent none) and the Host suffixed `-shadow`.
 * The mirrors' answers are read and dropped — kept here only for the demo's report.
 */
export async function startMirroringProxy(primaryUrl: string, mirrors: readonly MirrorTarget[]): Promise<MirroringProxy> {
  const agent = new Agent({ keepAliveTimeout: 10_000 });
  const pending = new Set<Promise<void>>();
  const exchanges: ProxiedExchange[] = [];
  const primaryHost = new URL(primaryUrl).host;
  // Envoy suffixes the host, before the port: `orders:8080` becomes `orders-shadow:8080`.
  const { hostname, port } = new URL(primaryUrl);
  const shadowHost = `${hostname}-shadow${port === '' ? '' : `:${port}`}`;

  const server: Server = createServer((incoming, outgoing) => {
    const chunks: Buffer[] = [];
    incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
    incoming.on('end', () => {
      const body = chunks.length === 0 ? null : Buffer.concat(chunks);
      const requestId = typeof incoming.headers['x-request-id'] === 'string' ? incoming.headers['x-request-id'] : randomUUID();
      const method = (incoming.method ?? 'GET') as 'GET';
      const path = incoming.url ?? '/';
      const mirrorAnswers: ProxiedExchange['mirrors'] = {};

      for (const mirror of mirrors) {
        const copy = request(new URL(path, mirror.url), { method, headers: forwardedHeaders(incoming, requestId, shadowHost), body, dispatcher: agent })
          .then(async (answer) => {
            mirrorAnswers[mirror.name] = { status: answer.statusCode, body: await answer.body.text() };
          })
          .catch((error: unknown) => {
            mirrorAnswers[mirror.name] = { error: String(error) };
          });
        pending.add(copy);
        void copy.finally(() => pending.delete(copy));
      }

      request(new URL(path, primaryUrl), { method, headers: forwardedHeaders(incoming, requestId, primaryHost), body, dispatcher: agent })
        .then(async (answer) => {
          const text = await answer.body.text();
          exchanges.push({ requestId, method, path, status: answer.statusCode, body: text, mirrors: mirrorAnswers });
          const headers: Record<string, string> = { 'x-request-id': requestId };
          const type = answer.headers['content-type'];
          if (typeof type === 'string') headers['content-type'] = type;
          outgoing.writeHead(answer.statusCode, headers).end(text);
        })
        .catch((error: unknown) => {
          outgoing.writeHead(502, { 'content-type': 'text/plain' }).end(`upstream failed: ${String(error)}`);
        });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    exchanges,
    async settled() {
      while (pending.size > 0) await Promise.all(pending);
    },
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await agent.close();
    },
  };
}
