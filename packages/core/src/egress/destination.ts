import { resolve } from 'node:path';
import { MirrorGuardError } from '../errors/mirrorguard-error.ts';

// Loaded through process.getBuiltinModule, not imported: the preload's first module records which
// networking modules were loaded before it (preload-snapshot.ts), so none of its own may load first.
const { isIP, isIPv4 } = process.getBuiltinModule('node:net');

/**
 * Where a connection goes: a host (an IP address or a hostname) and a port, or a Unix socket path.
 * Hosts are kept canonical (see `canonicalHost`), so equal destinations are equal strings.
 */
export type Destination = { readonly host: string; readonly port: number } | { readonly path: string };

/**
 * A destination as a user writes it: `'host:port'`, `'[::1]:6379'`, `'unix:/run/app.sock'` (or an
 * absolute path), or `{ host, port }` / `{ path }`.
 */
export type DestinationInput = string | { readonly host: string; readonly port: number | string } | { readonly path: string };

const invalid = (input: unknown, why: string): MirrorGuardError =>
  new MirrorGuardError('MG_ERR_EGRESS_INVALID', `egress destination ${JSON.stringify(input)} is not accepted: ${why}`);

/**
 * An IPv6 address, canonical: RFC 5952 text (lower case, the longest run of zeros compressed) as the
 * WHATWG URL parser writes it, with an IPv4-mapped address (`::ffff:127.0.0.1`) written as the IPv4
 * address it reaches. A zone (`%eth0`) is kept: `fe80::1%eth0` and `fe80::1%eth1` are different places.
 */
function canonicalIPv6(address: string): string {
  const zoneAt = address.indexOf('%');
  const bare = zoneAt === -1 ? address : address.slice(0, zoneAt);
  const zone = zoneAt === -1 ? '' : address.slice(zoneAt);
  const text = new URL(`http://[${bare}]/`).hostname.slice(1, -1);
  const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(text);
  if (mapped !== null && zone === '') {
    const high = Number.parseInt(mapped[1]!, 16);
    const low = Number.parseInt(mapped[2]!, 16);
    return `${high >> 8}.${high & 0xff}.${low >> 8}.${low & 0xff}`;
  }
  return text + zone;
}

/**
 * A host as the allow-list compares it. An IP address (as `net.isIP` accepts one) becomes its
 * canonical text; anything else is a hostname: lower-cased, one trailing dot dropped (`localhost.`
 * is `localhost`). No other spelling is interpreted: `2130706433`, `0x7f.1` or `127.1` are hostnames
 * here, and a connection to one is checked by the address it resolves to.
 */
export function canonicalHost(host: string): string {
  const version = isIP(host);
  if (version === 4) return host;
  if (version === 6) return canonicalIPv6(host);
  const lower = host.toLowerCase();
  return lower.endsWith('.') ? lower.slice(0, -1) : lower;
}

/** True when `host` (canonical) is an IP address rather than a hostname. */
export function isAddress(host: string): boolean {
  // Canonical hostnames have no colon; canonical IPv6 addresses always do.
  return host.includes(':') || isIPv4(host);
}

function parsePort(raw: number | string, input: unknown): number {
  const text = typeof raw === 'number' ? String(raw) : raw.trim();
  if (!/^\d{1,5}$/.test(text)) throw invalid(input, `the port must be a number from 1 to 65535`);
  const port = Number(text);
  if (port < 1 || port > 65_535) throw invalid(input, `the port must be a number from 1 to 65535`);
  return port;
}

function parseHost(raw: string, input: unknown): string {
  const host = raw.trim();
  const canonical = host === '' || /[\s/\\@?#[\]]/.test(host) ? '' : canonicalHost(host);
  if (canonical === '' || (canonical.includes(':') && isIP(host.split('%')[0] ?? '') !== 6)) throw invalid(input, 'the host must be a hostname or an IP address');
  return canonical;
}

/** A Unix socket path as the allow-list compares it: absolute, resolved against the working directory; an abstract name (`\0…`) as it is. */
export function canonicalPath(path: string): string {
  return path.startsWith('\0') ? path : resolve(path);
}

/** Parses what a user or a provider declares. Throws `MG_ERR_EGRESS_INVALID`, naming the input. */
export function parseDestination(input: DestinationInput): Destination {
  if (typeof input === 'object' && input !== null) {
    if ('path' in input && typeof input.path === 'string' && input.path !== '') return { path: canonicalPath(input.path) };
    if ('host' in input && typeof input.host === 'string' && (typeof input.port === 'number' || typeof input.port === 'string')) {
      // `{ host: '::1', port }` needs no brackets; tolerate them.
      const host = input.host.startsWith('[') && input.host.endsWith(']') ? input.host.slice(1, -1) : input.host;
      return { host: parseHost(host, input), port: parsePort(input.port, input) };
    }
    throw invalid(input, 'give { host, port } or { path }');
  }
  if (typeof input !== 'string') throw invalid(input, "give 'host:port', 'unix:/path' or an object");
  const text = input.trim();
  if (text.startsWith('unix:')) {
    const path = text.slice('unix:'.length);
    if (path === '') throw invalid(input, 'the socket path is empty');
    return { path: canonicalPath(path) };
  }
  if (text.startsWith('/')) return { path: canonicalPath(text) };
  const bracketed = /^\[([^\]]+)\]:([^:]+)$/.exec(text);
  if (bracketed !== null) {
    if (isIP(bracketed[1]!.split('%')[0] ?? '') !== 6) throw invalid(input, 'only an IPv6 address goes in brackets');
    return { host: parseHost(bracketed[1]!, input), port: parsePort(bracketed[2]!, input) };
  }
  const colon = text.lastIndexOf(':');
  if (colon === -1) throw invalid(input, "the port is missing: write 'host:port' (every destination names its port)");
  const host = text.slice(0, colon);
  if (host.includes(':')) throw invalid(input, "write an IPv6 address in brackets: '[::1]:6379'");
  return { host: parseHost(host, input), port: parsePort(text.slice(colon + 1), input) };
}

/** `host:port`, `[v6]:port` or `unix:/path`: how errors, the journal and the allow option spell a destination. */
export function describeDestination(destination: Destination): string {
  if ('path' in destination) return `unix:${destination.path.replace(/\0/g, '\\0')}`;
  const { host, port } = destination;
  return `${!isIPv4(host) && isAddress(host) ? `[${host}]` : host}:${port}`;
}
