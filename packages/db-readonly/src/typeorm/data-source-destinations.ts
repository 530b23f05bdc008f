import type { DestinationInput } from '@mirrorguard/core';
import type { DataSourceOptions } from 'typeorm';

interface Credentials {
  readonly url?: string;
  readonly host?: string;
  readonly port?: number;
  readonly socketPath?: string;
}

/** mysql2's defaults, which TypeORM leaves to it. */
const DEFAULT_HOST = 'localhost';
const DEFAULT_PORT = 3306;

/** Where one set of TypeORM credentials connects: TypeORM lets `url` win over host and port, and `extra` over both. */
function destinationOf(credentials: Credentials, extra: Credentials): DestinationInput {
  let { host, port, socketPath } = credentials;
  if (credentials.url !== undefined) {
    const url = new URL(credentials.url);
    host = url.hostname === '' ? host : url.hostname.replace(/^\[(.*)\]$/, '$1');
    port = url.port === '' ? undefined : Number(url.port);
  }
  host = extra.host ?? host;
  port = extra.port ?? port;
  socketPath = extra.socketPath ?? socketPath;
  if (socketPath !== undefined && socketPath !== '') return { path: socketPath };
  return { host: host === undefined || host === '' ? DEFAULT_HOST : host, port: port ?? DEFAULT_PORT };
}

/**
 * The servers a MySQL or MariaDB DataSource connects to — every member of a replication set —
 * for the egress lockdown. A SQLite DataSource opens a file and connects nowhere.
 */
export function dataSourceDestinations(options: DataSourceOptions): DestinationInput[] {
  if (options.type !== 'mysql' && options.type !== 'mariadb') return [];
  const extra = (options.extra ?? {}) as Credentials;
  const replication = (options as { replication?: { master: Credentials; slaves?: readonly Credentials[] } }).replication;
  const sets: readonly Credentials[] = replication === undefined ? [options as Credentials] : [replication.master, ...(replication.slaves ?? [])];
  return sets.map((credentials) => destinationOf(credentials, extra));
}
