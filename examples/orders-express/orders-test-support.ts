import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createConnection } from 'mysql2/promise';
import { fetch as undiciFetch, type Agent } from 'undici';
import { MYSQL_URL } from '../../test/support/servers.ts';
import { ORDERS_TABLES } from './schema.ts';

// What the orders examples' tests (Express and Nest) share: their database, a server on loopback,
// and the requests they send in every profile.

/** A MariaDB database of the orders service's own, for one test file. */
export function ordersDatabase(name: string) {
  const url = Object.assign(new URL(MYSQL_URL), { pathname: `/${name}` }).toString();
  const query = async <T>(sql: string): Promise<T[]> => {
    const root = await createConnection({ uri: url });
    try {
      const [rows] = await root.query(sql);
      return rows as T[];
    } finally {
      await root.end();
    }
  };
  return {
    url,
    query,
    /** Drops and creates it: the tables, a lamp (12, stock 10) and a desk (1,500, stock 3). */
    async create(): Promise<void> {
      const root = await createConnection({ uri: MYSQL_URL, multipleStatements: true });
      await root.query(`
        DROP DATABASE IF EXISTS ${name}; CREATE DATABASE ${name}; USE ${name};
        ${ORDERS_TABLES.mariadb.join(';\n        ')};
        INSERT INTO products (name, price, stock) VALUES ('lamp', 12, 10), ('desk', 1500, 3);`);
      await root.end();
    },
    /** The tables' checksums and the number of orders, to compare before and after. */
    state: async (): Promise<string> => JSON.stringify([await query('CHECKSUM TABLE products, orders'), await query('SELECT COUNT(*) AS n FROM orders')]),
  };
}

/** An HTTP server of `app` on a free loopback port. */
export async function listen(app: { listen(port: number, host: string): Server }): Promise<{ url: string; close(): Promise<void> }> {
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

export interface OrdersRequest {
  readonly id: string;
  readonly method: 'GET' | 'POST';
  readonly path: string;
  readonly body?: unknown;
}

export type Answers = Map<string, { status: number; body: Record<string, unknown> }>;

/**
 * Sends `requests` in order, each with its `x-request-id` (as a mirror gets them), over `driver`:
 * the test's own agent, since the stub, installed process-wide, is for the service's outbound calls,
 * not for the test's calls into the service.
 */
export async function sendRequests(baseUrl: string, requests: readonly OrdersRequest[], driver: Agent): Promise<Answers> {
  const answers: Answers = new Map();
  for (const request of requests) {
    const response = await undiciFetch(`${baseUrl}${request.path}`, {
      method: request.method,
      headers: { 'x-request-id': request.id, 'content-type': 'application/json' },
      ...(request.body !== undefined && { body: JSON.stringify(request.body) }),
      dispatcher: driver,
    });
    answers.set(request.id, { status: response.status, body: JSON.parse(await response.text()) as Record<string, unknown> });
  }
  return answers;
}
