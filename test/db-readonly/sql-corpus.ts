import type { StatementKind } from '../../packages/db-readonly/src/classifier/statement-classification.ts';

/**
 * The classifier's corpus. Every statement is valid for the leak schema (leak-schema.ts), so the
 * leak test can send each refused one through the guard against real MariaDB and prove nothing
 * reached it, and run each allowed one to prove reads still work.
 */
export interface CorpusEntry {
  readonly sql: string;
  readonly kind: StatementKind;
  /** What the entry is about, when the SQL alone does not say. */
  readonly note?: string;
  /** Allowed, but fails on the server for reasons unrelated to the guard (left out of the run-every-read check). */
  readonly serverRejects?: boolean;
  /**
   * Refused only when the session's sql_mode is unknown (it reads otherwise under another mode); a
   * guarded connection knows its session's mode and reads it as the server does, here as a read.
   */
  readonly readInDefaultMode?: boolean;
}

export const OUTFILE_PATH = '/tmp/mirrorguard-leak-outfile.csv';
export const LEAK_LOCK = 'mirrorguard_leak_lock';

// What TypeORM generates for find, joins, pagination, count, exists and transactions (copied from
// its query log against this schema), then hand-written reads, session settings, and every kind of
// write, lock, escape and side effect.
export const READS: readonly CorpusEntry[] = [
  { sql: 'SELECT VERSION() AS `version`', kind: 'read', note: 'TypeORM at initialize' },
  { sql: 'SELECT `Product`.`id` AS `Product_id`, `Product`.`name` AS `Product_name`, `Product`.`price` AS `Product_price`, `Product`.`stock` AS `Product_stock` FROM `products` `Product` WHERE ((`Product`.`id` = ?)) LIMIT 1', kind: 'read', note: 'findOne' },
  { sql: 'SELECT `Product`.`id` AS `Product_id`, `Product`.`name` AS `Product_name` FROM `products` `Product` WHERE `Product`.`stock` > ? ORDER BY `Product`.`price` DESC', kind: 'read', note: 'find with where and order' },
  { sql: 'SELECT `Order`.`id` AS `Order_id`, `Order`.`quantity` AS `Order_quantity`, `Order__Order_product`.`id` AS `Order__Order_product_id`, `Order__Order_product`.`name` AS `Order__Order_product_name` FROM `orders` `Order` LEFT JOIN `products` `Order__Order_product` ON `Order__Order_product`.`id`=`Order`.`product_id` WHERE ((`Order`.`quantity` >= ?))', kind: 'read', note: 'find with relations (join)' },
  { sql: 'SELECT DISTINCT `distinctAlias`.`Order_id` AS `ids_Order_id` FROM (SELECT `Order`.`id` AS `Order_id`, `Order__Order_product`.`id` AS `Order__Order_product_id` FROM `orders` `Order` LEFT JOIN `products` `Order__Order_product` ON `Order__Order_product`.`id`=`Order`.`product_id`) `distinctAlias` ORDER BY `Order_id` ASC LIMIT 10 OFFSET 20', kind: 'read', note: 'pagination with relations' },
  { sql: 'SELECT `Product`.`id` AS `Product_id` FROM `products` `Product` LIMIT 10 OFFSET 10', kind: 'read', note: 'take and skip' },
  { sql: 'SELECT COUNT(DISTINCT(`Product`.`id`)) AS `cnt` FROM `products` `Product` WHERE `Product`.`price` < ?', kind: 'read', note: 'count' },
  { sql: 'SELECT 1 AS `row_exists` FROM (SELECT 1 AS dummy_column) `dummy_table` WHERE EXISTS (SELECT 1 FROM `products` `Product` WHERE ((`Product`.`name` = ?))) LIMIT 1', kind: 'read', note: 'exists' },
  { sql: 'SELECT SUM(`Order`.`quantity`) AS `SUM` FROM `orders` `Order`', kind: 'read', note: 'sum' },
  { sql: 'SELECT `p`.`name`, SUM(`o`.`quantity`) AS `sold` FROM `products` `p` INNER JOIN `orders` `o` ON `o`.`product_id` = `p`.`id` GROUP BY `p`.`id` HAVING `sold` > ? ORDER BY `sold` DESC', kind: 'read', note: 'query builder join, group, having' },
  { sql: 'select * from products where id in (select product_id from orders where quantity > 1)', kind: 'read' },
  { sql: '(SELECT id FROM products WHERE price > 10) UNION ALL (SELECT product_id FROM orders)', kind: 'read' },
  { sql: 'SELECT id FROM products UNION SELECT product_id FROM orders ORDER BY 1', kind: 'read' },
  { sql: 'WITH cheap AS (SELECT id, name FROM products WHERE price < 5) SELECT * FROM cheap', kind: 'read' },
  { sql: 'WITH RECURSIVE n (i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 5), m AS (SELECT 2) SELECT * FROM n', kind: 'read' },
  { sql: 'SELECT * FROM product_names', kind: 'read', note: 'a view' },
  { sql: 'SHOW TABLES', kind: 'read' },
  { sql: 'SHOW FULL COLUMNS FROM `products`', kind: 'read' },
  { sql: 'SHOW CREATE TABLE orders', kind: 'read' },
  { sql: 'SHOW GRANTS FOR CURRENT_USER()', kind: 'read' },
  { sql: 'SHOW VARIABLES LIKE \'tx_read_only\'', kind: 'read' },
  { sql: 'DESCRIBE products', kind: 'read' },
  { sql: 'DESC orders quantity', kind: 'read' },
  { sql: 'EXPLAIN SELECT * FROM orders WHERE product_id = 1', kind: 'read' },
  { sql: 'EXPLAIN FORMAT=JSON SELECT id FROM products', kind: 'read' },
  { sql: 'VALUES (1, \'a\'), (2, \'b\')', kind: 'read' },
  { sql: 'SELECT \'it\'\'s\', "say ""hi""", \'back\\\\slash\' AS s', kind: 'read', note: 'doubled quotes and an escaped backslash' },
  { sql: "SELECT 'DELETE FROM products; -- not a statement' AS s", kind: 'read', note: 'a write inside a string' },
  { sql: 'SELECT `delete`, `update` FROM (SELECT 1 AS `delete`, 2 AS `update`) AS `t`', kind: 'read', note: 'keywords as quoted names' },
  { sql: 'SELECT 1 -- DELETE FROM products\n', kind: 'read', note: 'a write inside a -- comment' },
  { sql: 'SELECT 1 # DROP TABLE products', kind: 'read', note: 'a write inside a # comment' },
  { sql: 'SELECT /* UPDATE products SET stock = 0 */ 1', kind: 'read', note: 'a write inside a block comment' },
  { sql: 'SELECT /*+ MAX_EXECUTION_TIME(1000) */ id FROM products', kind: 'escape', note: 'MySQL reads optimizer hints, which can lift the statement time bound' },
  { sql: 'SELECT 1--1', kind: 'read', note: '-- without a space is two minus signs' },
  { sql: 'SELECT INSERT(\'abcd\', 2, 1, \'x\'), REPLACE(name, \'a\', \'b\') FROM products', kind: 'read', note: 'INSERT and REPLACE as functions' },
  { sql: 'SELECT IS_USED_LOCK(\'mirrorguard_leak_lock\'), IS_FREE_LOCK(\'x\')', kind: 'read', note: 'lock inspection is a read' },
  { sql: 'SELECT id INTO @first_id FROM products ORDER BY id LIMIT 1', kind: 'read', note: 'INTO a user variable' },
  { sql: 'SELECT SLEEP(0), NOW(3), UUID(), @@tx_read_only', kind: 'read' },
  { sql: 'SELECT * FROM products;', kind: 'read', note: 'one trailing semicolon' },
  { sql: 'select id from products where name = ? for system_time all', kind: 'read', serverRejects: true, note: 'FOR not followed by UPDATE or SHARE' },
];

export const TRANSACTIONS: readonly CorpusEntry[] = [
  { sql: 'START TRANSACTION', kind: 'transaction', note: 'TypeORM transaction' },
  { sql: 'COMMIT', kind: 'transaction' },
  { sql: 'ROLLBACK', kind: 'transaction' },
  { sql: 'BEGIN', kind: 'transaction' },
  { sql: 'BEGIN WORK', kind: 'transaction' },
  { sql: 'START TRANSACTION READ ONLY', kind: 'transaction' },
  { sql: 'START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY', kind: 'transaction' },
  { sql: 'SAVEPOINT typeorm_1', kind: 'transaction', serverRejects: true, note: 'needs an open transaction' },
  { sql: 'RELEASE SAVEPOINT typeorm_1', kind: 'transaction', serverRejects: true, note: 'needs the savepoint' },
  { sql: 'ROLLBACK TO SAVEPOINT typeorm_1', kind: 'transaction', serverRejects: true, note: 'needs the savepoint' },
  { sql: 'COMMIT WORK AND NO CHAIN', kind: 'transaction' },
];

export const SESSION: readonly CorpusEntry[] = [
  { sql: 'SET TRANSACTION ISOLATION LEVEL READ COMMITTED', kind: 'session', note: 'TypeORM isolation level' },
  { sql: 'SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY', kind: 'session' },
  { sql: 'SET NAMES utf8mb4 COLLATE utf8mb4_unicode_ci', kind: 'session' },
  { sql: "SET time_zone = '+00:00'", kind: 'session' },
  { sql: "SET SESSION sql_mode = 'STRICT_TRANS_TABLES,NO_ZERO_DATE'", kind: 'session' },
  { sql: 'SET @@session.group_concat_max_len = 100000, @row := 0', kind: 'session' },
  { sql: 'SET autocommit = 1', kind: 'session' },
  { sql: 'SET SESSION tx_read_only = ON', kind: 'session', note: 'turning read-only on is fine' },
  { sql: 'USE `mirrorguard_leak`', kind: 'session' },
];

export const WRITES: readonly CorpusEntry[] = [
  { sql: 'INSERT INTO `products`(`id`, `name`, `price`, `stock`) VALUES (DEFAULT, ?, ?, ?)', kind: 'write', note: 'TypeORM save (insert)' },
  { sql: 'UPDATE `products` SET `stock` = ? WHERE `id` IN (?)', kind: 'write', note: 'TypeORM save (update)' },
  { sql: 'UPDATE `products` SET `stock` = `stock` + 1 WHERE `id` = ?', kind: 'write', note: 'TypeORM increment' },
  { sql: 'DELETE FROM `orders` WHERE `id` IN (?)', kind: 'write', note: 'TypeORM remove' },
  { sql: 'INSERT INTO `products`(`id`, `name`, `price`, `stock`) VALUES (?, ?, ?, ?) ON DUPLICATE KEY UPDATE `name` = VALUES(`name`), `stock` = VALUES(`stock`)', kind: 'write', note: 'TypeORM upsert' },
  { sql: "insert into products (name, price) values ('lamp', 12.5)", kind: 'write' },
  { sql: "INSERT INTO orders (product_id, quantity) SELECT id, 1 FROM products", kind: 'write' },
  { sql: "REPLACE INTO products (id, name, price) VALUES (1, 'x', 1)", kind: 'write' },
  { sql: 'UPDATE products p JOIN orders o ON o.product_id = p.id SET p.stock = p.stock - o.quantity', kind: 'write' },
  { sql: 'DELETE p FROM products p LEFT JOIN orders o ON o.product_id = p.id WHERE o.id IS NULL', kind: 'write' },
  { sql: 'WITH gone AS (SELECT id FROM orders) DELETE FROM orders WHERE id IN (SELECT id FROM gone)', kind: 'write' },
  { sql: '/* harmless? */ DELETE FROM orders', kind: 'write', note: 'a comment first' },
  { sql: '   \n\tUPDATE products SET price = 0', kind: 'write', note: 'leading whitespace' },
  { sql: 'EXPLAIN ANALYZE DELETE FROM orders', kind: 'write', note: 'EXPLAIN of a write is refused (some forms run it)' },
];

export const DDL: readonly CorpusEntry[] = [
  { sql: 'CREATE TABLE intruder (id INT)', kind: 'ddl' },
  { sql: 'CREATE TEMPORARY TABLE tmp_intruder (id INT)', kind: 'ddl' },
  { sql: 'ALTER TABLE products ADD COLUMN intruder INT', kind: 'ddl' },
  { sql: 'DROP TABLE orders', kind: 'ddl' },
  { sql: 'TRUNCATE TABLE orders', kind: 'ddl' },
  { sql: 'RENAME TABLE orders TO orders_old', kind: 'ddl' },
  { sql: 'CREATE INDEX idx_intruder ON products (price)', kind: 'ddl' },
  { sql: 'CREATE OR REPLACE VIEW product_names AS SELECT 1 AS id', kind: 'ddl' },
  { sql: 'DROP DATABASE mirrorguard_leak', kind: 'ddl' },
  { sql: "CREATE USER intruder IDENTIFIED BY 'x'", kind: 'ddl' },
];

export const LOCKS: readonly CorpusEntry[] = [
  { sql: 'SELECT `Product`.`id` AS `Product_id` FROM `products` `Product` WHERE `Product`.`id` = ? FOR UPDATE', kind: 'lock', note: 'TypeORM pessimistic_write' },
  { sql: 'SELECT `Product`.`id` AS `Product_id` FROM `products` `Product` LOCK IN SHARE MODE', kind: 'lock', note: 'TypeORM pessimistic_read (MariaDB)' },
  { sql: 'SELECT id FROM products FOR SHARE', kind: 'lock', serverRejects: true, note: 'MySQL 8 syntax' },
  { sql: 'SELECT id FROM products WHERE id IN (SELECT product_id FROM orders FOR UPDATE)', kind: 'lock', note: 'a locking subquery' },
  { sql: 'SELECT id FROM products FOR UPDATE SKIP LOCKED', kind: 'lock' },
  { sql: `SELECT GET_LOCK('${LEAK_LOCK}', 0)`, kind: 'lock' },
  { sql: `select get_lock ('${LEAK_LOCK}', 0) as l`, kind: 'lock', note: 'a space before the parenthesis' },
  { sql: `SELECT \`GET_LOCK\`('${LEAK_LOCK}', 0)`, kind: 'lock', note: 'a quoted name' },
  { sql: `SELECT RELEASE_LOCK('${LEAK_LOCK}')`, kind: 'lock' },
  { sql: 'SELECT RELEASE_ALL_LOCKS()', kind: 'lock' },
  { sql: 'SET @x = (SELECT COUNT(*) FROM products)', kind: 'lock', note: 'MariaDB reads a subquery in SET with shared row locks, even read-only (lexer differential test)' },
  { sql: "SET @v = 1, tx_isolation = 'SERIALIZABLE' ''", kind: 'lock', note: 'adjacent literals make one value (lexer differential test)' },
  { sql: 'SET SESSION tx_isolation = 3', kind: 'lock', note: '3 is SERIALIZABLE' },
  { sql: `SELECT 1 AS a, @"\\", GET_LOCK('${LEAK_LOCK}', 0) AS "#"`, kind: 'lock', readInDefaultMode: true, note: 'under ANSI_QUOTES @"…" is a quoted name, with no backslash escape (lexer differential test)' },
  { sql: `SET @l = GET_LOCK('${LEAK_LOCK}', 0)`, kind: 'lock', note: 'a lock inside SET' },
  { sql: 'LOCK TABLES products WRITE', kind: 'lock' },
  { sql: 'UNLOCK TABLES', kind: 'lock' },
];

export const ESCAPES: readonly CorpusEntry[] = [
  { sql: 'SET SESSION TRANSACTION READ WRITE', kind: 'escape' },
  { sql: 'SET CHARACTER SET utf8mb4', kind: 'escape', note: "sets character_set_connection to the database's character set (lexer differential test)" },
  { sql: 'SET TRANSACTION READ WRITE', kind: 'escape' },
  { sql: 'SET SESSION TRANSACTION ISOLATION LEVEL SERIALIZABLE, READ WRITE', kind: 'escape' },
  { sql: 'SET transaction_read_only = 0', kind: 'escape' },
  { sql: 'SET @@session.tx_read_only = OFF', kind: 'escape' },
  { sql: 'SET tx_read_only = DEFAULT', kind: 'escape' },
  { sql: 'START TRANSACTION READ WRITE', kind: 'escape' },
  { sql: 'SELECT 1; DELETE FROM orders', kind: 'escape', note: 'two statements' },
  { sql: 'SELECT 1;DROP TABLE products;', kind: 'escape', note: 'two statements' },
  { sql: '/*!50000 DELETE FROM orders */', kind: 'escape', note: 'MySQL executable comment' },
  { sql: 'SELECT 1 /*! , GET_LOCK(\'x\', 0) */', kind: 'escape', note: 'executable comment inside a read' },
  { sql: '/*M!100000 UPDATE products SET stock = 0 */', kind: 'escape', note: 'MariaDB executable comment' },
  { sql: `SELECT * FROM products INTO OUTFILE '${OUTFILE_PATH}'`, kind: 'escape' },
  { sql: `SELECT name INTO DUMPFILE '${OUTFILE_PATH}' FROM products LIMIT 1`, kind: 'escape' },
  { sql: "SELECT LOAD_FILE('/etc/hostname')", kind: 'escape' },
  { sql: "LOAD DATA LOCAL INFILE '/etc/hostname' INTO TABLE products", kind: 'escape' },
  { sql: "LOAD DATA INFILE '/etc/hostname' INTO TABLE products", kind: 'escape' },
  { sql: "SELECT '\\' ; DELETE FROM orders; -- '", kind: 'escape', readInDefaultMode: true, note: 'one string with backslash escapes, two statements without them' },
];

export const SIDE_EFFECTS: readonly CorpusEntry[] = [
  { sql: 'SET GLOBAL max_connections = 1', kind: 'side-effect' },
  { sql: 'SET @@global.read_only = 0', kind: 'side-effect' },
  { sql: 'SET PERSIST max_connections = 1', kind: 'side-effect', serverRejects: true },
  { sql: 'SET GLOBAL TRANSACTION READ WRITE', kind: 'side-effect' },
  { sql: 'SET @a = 1, GLOBAL wait_timeout = 1', kind: 'side-effect', note: 'a global hidden after a harmless assignment' },
  { sql: "SET PASSWORD = PASSWORD('x')", kind: 'side-effect' },
  { sql: 'SELECT NEXTVAL(order_numbers)', kind: 'side-effect' },
  { sql: 'SELECT NEXT VALUE FOR order_numbers', kind: 'side-effect' },
  { sql: 'SELECT SETVAL(order_numbers, 100)', kind: 'side-effect' },
  { sql: 'CALL restock()', kind: 'side-effect' },
  { sql: "DO GET_LOCK('x', 0)", kind: 'lock', note: 'the lock is the more severe finding' },
  { sql: 'DO SLEEP(0)', kind: 'side-effect' },
  { sql: "PREPARE stmt FROM 'DELETE FROM orders'", kind: 'side-effect' },
  { sql: 'EXECUTE stmt', kind: 'side-effect' },
  { sql: 'KILL QUERY 1', kind: 'side-effect' },
  { sql: 'FLUSH TABLES', kind: 'side-effect' },
  { sql: 'ANALYZE TABLE products', kind: 'side-effect' },
  { sql: 'OPTIMIZE TABLE orders', kind: 'side-effect' },
  { sql: 'HANDLER products OPEN', kind: 'side-effect' },
  { sql: "XA START 'x'", kind: 'side-effect' },
  { sql: 'GRANT ALL ON *.* TO root', kind: 'side-effect' },
  { sql: 'SET SESSION sql_log_bin = 0', kind: 'unknown', note: 'not on the allow-list' },
];

export const UNKNOWN: readonly CorpusEntry[] = [
  { sql: '', kind: 'unknown' },
  { sql: '   -- only a comment', kind: 'unknown' },
  { sql: "SELECT 'unterminated", kind: 'unknown' },
  { sql: 'SELECT /* unterminated comment', kind: 'unknown' },
  { sql: 'SELECT (1', kind: 'unknown' },
  { sql: 'SELECT 1)', kind: 'unknown' },
  { sql: 'FROBNICATE products', kind: 'unknown' },
  { sql: 'BEGIN NOT ATOMIC DELETE FROM orders; END', kind: 'escape', note: 'a compound statement: the ; makes two' },
  { sql: "SET SESSION sql_mode = 'ORACLE'", kind: 'unknown' },
  { sql: 'SET STATEMENT max_statement_time = 1 FOR DELETE FROM orders', kind: 'unknown' },
  { sql: 'SELECT 1\u0000; DELETE FROM orders', kind: 'unknown', note: 'a NUL byte' },
  { sql: 'SELECT\u00a0* FROM products', kind: 'unknown', note: 'a no-break space is a name character to the server' },
];

export const CORPUS: readonly CorpusEntry[] = [...READS, ...TRANSACTIONS, ...SESSION, ...WRITES, ...DDL, ...LOCKS, ...ESCAPES, ...SIDE_EFFECTS, ...UNKNOWN];
export const ALLOWED_KINDS: ReadonlySet<StatementKind> = new Set(['read', 'transaction', 'session']);
