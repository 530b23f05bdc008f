/** Reads the grants of the connected account; `SHOW GRANTS FOR CURRENT_USER()`. */
export const SHOW_GRANTS = 'SHOW GRANTS FOR CURRENT_USER()';

/**
 * Reads what MariaDB (10.11 and later) grants every account `TO PUBLIC`, which SHOW_GRANTS does not
 * list; other servers answer with an error, read as no grants.
 */
export const SHOW_PUBLIC_GRANTS = 'SHOW GRANTS FOR PUBLIC';

// Privileges that cannot change data, the schema, the server or other sessions.
const READ_ONLY_PRIVILEGES = new Set([
  'SELECT',
  'SHOW VIEW',
  'SHOW DATABASES',
  'USAGE',
  'PROCESS',
  'REPLICATION CLIENT',
  'BINLOG MONITOR',
  'SLAVE MONITOR',
  'REPLICA MONITOR',
]);

export interface AccountPrivileges {
  /** Whether anything granted lets the account write (or might: roles and proxies count). */
  readonly canWrite: boolean;
  /** The privileges (or role and proxy grants) that make it so. */
  readonly writePrivileges: readonly string[];
  /** The grants as the server listed them. */
  readonly grants: readonly string[];
}

/** Classifies the rows of SHOW GRANTS (as arrays of one string). Fails closed: a grant it cannot read counts as a write. */
export function readAccountPrivileges(rows: unknown): AccountPrivileges {
  const grants = (Array.isArray(rows) ? rows : []).map((row) => String(Array.isArray(row) ? row[0] : Object.values(row as object)[0]));
  const writePrivileges: string[] = [];
  for (const grant of grants) {
    const match = /^GRANT\s+(.+?)\s+ON\s+/i.exec(grant);
    if (match === null) {
      // `GRANT role TO user`, `SET DEFAULT ROLE …`: roles are not expanded here.
      writePrivileges.push(`role or unreadable grant: ${grant}`);
      continue;
    }
    const privileges = match[1]!.replace(/\([^)]*\)/g, '').split(',').map((name) => name.trim().toUpperCase().replace(/\s+/g, ' '));
    for (const privilege of privileges) if (!READ_ONLY_PRIVILEGES.has(privilege)) writePrivileges.push(privilege);
  }
  if (grants.length === 0) writePrivileges.push('no grants could be read');
  return { canWrite: writePrivileges.length > 0, writePrivileges: [...new Set(writePrivileges)], grants };
}
