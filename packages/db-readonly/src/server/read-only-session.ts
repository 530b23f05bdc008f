/** Sent on every new connection, and again after a reset or a change of user (both turn it off). */
export const SET_READ_ONLY = 'SET SESSION TRANSACTION READ ONLY';

/** Works on MySQL 8 (`transaction_read_only`), MariaDB up to 11.0 (`tx_read_only`) and MariaDB 11.1+ (both). */
export const VERIFY_READ_ONLY = "SHOW SESSION VARIABLES WHERE Variable_name IN ('transaction_read_only', 'tx_read_only')";

/** Whether the rows of VERIFY_READ_ONLY (as arrays) say the session is read-only. */
export function confirmsReadOnly(rows: unknown): boolean {
  if (!Array.isArray(rows) || rows.length === 0) return false;
  return rows.every((row) => Array.isArray(row) && ['ON', '1'].includes(String(row[1]).toUpperCase()));
}
