import { canonicalHost, canonicalPath, describeDestination, isAddress, type Destination } from './destination.ts';

/** One declared destination: where, why, and who declared it. */
export interface EgressGrant {
  readonly destination: Destination;
  /** `host:port`, `[v6]:port` or `unix:/path`. */
  readonly description: string;
  /** Why the process may go there: `the database`, `origin Redis`, `egress.allow`. */
  readonly reason: string;
  /** Who declared it: a provider's name, `egress.allow`, `MIRRORGUARD_EGRESS_ALLOW`. */
  readonly by: string;
}

const key = (host: string, port: number): string => `${host}|${port}`;

/**
 * The destinations the process may connect to, exactly as declared. An IP entry matches a connection
 * to that address (in any spelling that is the same address) and port; a hostname entry matches a
 * connection that asked for that name and port, whatever the name resolves to; a path entry matches
 * that Unix socket. Nothing else: no wildcard, no range, no reverse lookup.
 */
export class AllowList {
  readonly #addresses = new Map<string, EgressGrant>();
  readonly #names = new Map<string, EgressGrant>();
  readonly #paths = new Map<string, EgressGrant>();
  readonly #grants: EgressGrant[] = [];

  add(destination: Destination, reason: string, by: string): EgressGrant {
    const grant: EgressGrant = Object.freeze({ destination, description: describeDestination(destination), reason, by });
    this.#grants.push(grant);
    if ('path' in destination) {
      if (!this.#paths.has(destination.path)) this.#paths.set(destination.path, grant);
    } else {
      const map = isAddress(destination.host) ? this.#addresses : this.#names;
      const entry = key(destination.host, destination.port);
      if (!map.has(entry)) map.set(entry, grant);
    }
    return grant;
  }

  /** The grant for a connection to this IP address (any spelling `canonicalHost` knows) and port. */
  address(address: string, port: number): EgressGrant | undefined {
    return this.#addresses.get(key(canonicalHost(address), port));
  }

  /** The grant for a connection that asked for this hostname and port. */
  name(hostname: string, port: number): EgressGrant | undefined {
    return this.#names.get(key(canonicalHost(hostname), port));
  }

  path(path: string): EgressGrant | undefined {
    return this.#paths.get(canonicalPath(path));
  }

  /** Every grant, in the order declared (duplicates included: each declaration is kept). */
  grants(): readonly EgressGrant[] {
    return [...this.#grants];
  }
}
