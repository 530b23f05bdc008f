import type { StatementKind } from '../../packages/db-readonly/src/classifier/statement-classification.ts';

/**
 * The SQLite dialect's corpus. Every statement is valid SQLite for SQLITE_SCHEMA: the corpus test
 * runs each one on a real node:sqlite database, and the leak test sends each refused one through the
 * guard, raw and through TypeORM, against a real file, and proves the file did not change.
 */
export interface SqliteCorpusEntry {
  readonly sql: string;
  readonly kind: StatementKind;
  /** What the entry is about, when the SQL alone does not say. */
  readonly note?: string;
  /** What must be in place for the statement to run: an open transaction, a savepoint, an attached database. */
  readonly needs?: 'transaction' | 'savepoint' | 'attached';
  /** The statement is valid but fails when run, for a reason unrelated to the guard (this message). */
  readonly runFails?: string;
}

/** Where statements that write files (VACUUM INTO, ATTACH) point; the tests replace it with a folder of their own. */
export const SCRATCH_DIR = '%SCRATCH%';

/** The schema the corpus, the leak test and the TypeORM tests use (sqlite-entities.ts maps items and purchases). */
export const SQLITE_SCHEMA = `
  CREATE TABLE "items" ("id" integer PRIMARY KEY AUTOINCREMENT NOT NULL, "name" text NOT NULL, "price" real NOT NULL, "stock" integer NOT NULL,
    "active" boolean NOT NULL DEFAULT (1), "picture" blob, CONSTRAINT "UQ_items_name" UNIQUE ("name"));
  CREATE TABLE "purchases" ("id" integer PRIMARY KEY AUTOINCREMENT NOT NULL, "quantity" integer NOT NULL, "created_at" datetime NOT NULL DEFAULT (datetime('now')),
    "item_id" integer, CONSTRAINT "FK_purchases_item" FOREIGN KEY ("item_id") REFERENCES "items" ("id") ON DELETE CASCADE ON UPDATE NO ACTION);
  CREATE INDEX "IDX_purchases_item" ON "purchases" ("item_id");
  CREATE TABLE "item_log" ("id" integer PRIMARY KEY AUTOINCREMENT, "item_id" integer, "old_stock" integer, "new_stock" integer);
  CREATE TRIGGER "items_stock_log" AFTER UPDATE OF "stock" ON "items"
    BEGIN INSERT INTO "item_log" ("item_id", "old_stock", "new_stock") VALUES (old."id", old."stock", new."stock"); END;
  CREATE VIEW "item_names" AS SELECT "id", "name" FROM "items";
  CREATE VIRTUAL TABLE "notes" USING fts5("body");
  INSERT INTO "items" ("name", "price", "stock", "active", "picture") VALUES ('apple', 1.25, 10, 1, X'0102'), ('pear', 2.5, 0, 0, NULL), ('plum', 0.75, 3, 1, NULL);
  INSERT INTO "purchases" ("quantity", "created_at", "item_id") VALUES (2, '2024-05-01 10:00:00', 1), (1, '2024-05-02 11:30:00', 3);
  INSERT INTO "notes" ("body") VALUES ('first note'), ('second note');
  PRAGMA user_version = 7;
`;

// What TypeORM 1.1 generates on SQLite for find, joins, pagination, count, exists, sum, the query
// builder and schema inspection (copied from its query log against this schema).
export const SQLITE_READS: readonly SqliteCorpusEntry[] = [
  { sql: 'SELECT "Item"."id" AS "Item_id", "Item"."name" AS "Item_name", "Item"."price" AS "Item_price", "Item"."stock" AS "Item_stock", "Item"."active" AS "Item_active", "Item"."picture" AS "Item_picture" FROM "items" "Item" WHERE (("Item"."id" = 1)) LIMIT 1', kind: 'read', note: 'findOneBy' },
  { sql: 'SELECT "Item"."id" AS "Item_id", "Item"."name" AS "Item_name", "Item"."price" AS "Item_price" FROM "items" "Item" WHERE (("Item"."stock" = 1)) ORDER BY "Item"."price" DESC LIMIT 10 OFFSET 5', kind: 'read', note: 'find with where, order, take, skip' },
  { sql: 'SELECT DISTINCT "distinctAlias"."Purchase_id" AS "ids_Purchase_id" FROM (SELECT "Purchase"."id" AS "Purchase_id", "Purchase"."quantity" AS "Purchase_quantity", "Purchase__Purchase_item"."id" AS "Purchase__Purchase_item_id", "Purchase__Purchase_item"."name" AS "Purchase__Purchase_item_name" FROM "purchases" "Purchase" LEFT JOIN "items" "Purchase__Purchase_item" ON "Purchase__Purchase_item"."id"="Purchase"."item_id") "distinctAlias" ORDER BY "Purchase_id" ASC LIMIT 10 OFFSET 20', kind: 'read', note: 'pagination with relations' },
  { sql: 'SELECT COUNT(1) AS "cnt" FROM "items" "Item" WHERE (("Item"."active" = ?))', kind: 'read', note: 'count' },
  { sql: 'SELECT 1 AS "row_exists" FROM (SELECT 1 AS dummy_column) "dummy_table" WHERE EXISTS (SELECT 1 FROM "items" "Item" WHERE (("Item"."name" = ?))) LIMIT 1', kind: 'read', note: 'exists' },
  { sql: 'SELECT SUM("Item"."stock") AS "SUM" FROM "items" "Item"', kind: 'read', note: 'sum' },
  { sql: 'SELECT "Item"."id" AS "Item_id", "Item"."active" AS "Item_active" FROM "items" "Item" WHERE "Item"."id" = 3', kind: 'read', note: 'reload after insert' },
  { sql: 'SELECT "i"."name" AS "name", SUM("p"."quantity") AS "sold" FROM "items" "i" INNER JOIN "purchases" "p" ON "p"."item_id" = "i"."id" GROUP BY "i"."id" HAVING SUM("p"."quantity") > 0', kind: 'read', note: 'query builder join, group, having' },
  { sql: 'SELECT * FROM "sqlite_master" WHERE "type" = \'table\' AND "name" IN (\'items\',\'purchases\')', kind: 'read', note: 'schema inspection' },
  { sql: 'SELECT * FROM "sqlite_master" WHERE "type" = \'table\' AND "name" = ?', kind: 'read', note: 'metadata table lookup' },
  { sql: 'PRAGMA table_xinfo("items")', kind: 'read', note: 'schema inspection' },
  { sql: 'PRAGMA index_list("purchases")', kind: 'read', note: 'schema inspection' },
  { sql: 'PRAGMA index_info("IDX_purchases_item")', kind: 'read', note: 'schema inspection' },
  { sql: 'PRAGMA foreign_key_list("purchases")', kind: 'read', note: 'schema inspection' },
  { sql: 'PRAGMA "main".table_info("items")', kind: 'read', note: 'a quoted schema name' },
  { sql: "PRAGMA table_info('items')", kind: 'read' },
  { sql: 'PRAGMA main.index_xinfo(IDX_purchases_item)', kind: 'read' },
  { sql: 'PRAGMA database_list', kind: 'read' },
  { sql: 'PRAGMA data_version', kind: 'read' },
  { sql: 'PRAGMA schema_version', kind: 'read' },
  { sql: 'PRAGMA main.user_version', kind: 'read' },
  { sql: 'PRAGMA query_only', kind: 'read' },
  { sql: 'PRAGMA journal_mode', kind: 'read' },
  { sql: 'PRAGMA foreign_keys', kind: 'read' },
  { sql: 'PRAGMA page_count', kind: 'read' },
  { sql: 'PRAGMA table_list', kind: 'read' },
  { sql: 'PRAGMA compile_options', kind: 'read' },
  { sql: 'PRAGMA foreign_key_check', kind: 'read' },
  { sql: 'PRAGMA integrity_check(5)', kind: 'read' },
  { sql: "SELECT name, type FROM pragma_table_info('items') ORDER BY cid", kind: 'read', note: 'a pragma as a table-valued function' },
  { sql: 'SELECT * FROM "item_names"', kind: 'read', note: 'a view' },
  { sql: "SELECT rowid, body FROM notes WHERE notes MATCH 'note' ORDER BY rank", kind: 'read', note: 'full-text search' },
  { sql: 'SELECT name, SUM(pgsize) FROM dbstat GROUP BY name', kind: 'read', note: 'the dbstat virtual table' },
  { sql: "VALUES (1, 'a'), (2, 'b')", kind: 'read' },
  { sql: 'WITH cheap AS (SELECT id, name FROM items WHERE price < 5) SELECT * FROM cheap', kind: 'read' },
  { sql: 'WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 5), m AS (SELECT 2) SELECT i FROM n', kind: 'read' },
  { sql: 'WITH t AS MATERIALIZED (SELECT 1 AS x), u AS NOT MATERIALIZED (SELECT 2 AS y) SELECT x, y FROM t, u', kind: 'read' },
  { sql: 'EXPLAIN QUERY PLAN SELECT * FROM purchases WHERE item_id = 1', kind: 'read' },
  { sql: 'EXPLAIN SELECT name FROM items', kind: 'read' },
  { sql: "SELECT 'it''s', 'back\\slash' AS s", kind: 'read', note: 'doubled quotes; a backslash is an ordinary character' },
  { sql: "SELECT 'DELETE FROM items; -- not a statement' AS s", kind: 'read', note: 'a write inside a string' },
  { sql: 'SELECT "delete", [update], `insert` FROM (SELECT 1 AS "delete", 2 AS "update", 3 AS "insert")', kind: 'read', note: 'keywords as quoted names, three ways' },
  { sql: 'SELECT "a""b" FROM (SELECT 1 AS "a""b")', kind: 'read', note: 'a doubled quote in a name' },
  { sql: 'SELECT 1 -- DELETE FROM items', kind: 'read', note: 'a write inside a -- comment' },
  { sql: 'SELECT 1 --DROP TABLE items\n', kind: 'read', note: '-- needs no space in SQLite' },
  { sql: 'SELECT /* UPDATE items SET stock = 0 */ 1', kind: 'read', note: 'a write inside a block comment' },
  { sql: "SELECT X'DEADBEEF' AS b, x'' AS empty", kind: 'read', note: 'blob literals' },
  { sql: 'SELECT * FROM items WHERE id = ?1 OR name = :name OR price > @price OR stock < $stock OR active = ?', kind: 'read', note: 'every parameter form' },
  { sql: "SELECT replace(name, 'a', 'b'), upper(name) FROM items", kind: 'read', note: 'REPLACE as a function' },
  { sql: "SELECT json_extract('{\"a\":1}', '$.a'), '{\"b\":2}' ->> '$.b'", kind: 'read', note: 'JSON functions and operators' },
  { sql: 'SELECT changes(), total_changes(), last_insert_rowid(), sqlite_version()', kind: 'read' },
  { sql: 'SELECT a$b FROM (SELECT 1 AS a$b)', kind: 'read', note: '$ inside a name is part of it' },
  { sql: 'SELECT 1; SELECT 2;', kind: 'read', note: 'several statements, all reads' },
];

export const SQLITE_TRANSACTIONS: readonly SqliteCorpusEntry[] = [
  { sql: 'BEGIN TRANSACTION', kind: 'transaction', note: 'TypeORM' },
  { sql: 'BEGIN', kind: 'transaction' },
  { sql: 'BEGIN DEFERRED TRANSACTION', kind: 'transaction' },
  { sql: 'COMMIT', kind: 'transaction', needs: 'transaction', note: 'TypeORM' },
  { sql: 'END TRANSACTION', kind: 'transaction', needs: 'transaction' },
  { sql: 'ROLLBACK', kind: 'transaction', needs: 'transaction', note: 'TypeORM' },
  { sql: 'SAVEPOINT typeorm_1', kind: 'transaction', note: 'TypeORM: a nested transaction' },
  { sql: 'RELEASE SAVEPOINT typeorm_1', kind: 'transaction', needs: 'savepoint', note: 'TypeORM' },
  { sql: 'ROLLBACK TO SAVEPOINT typeorm_1', kind: 'transaction', needs: 'savepoint', note: 'TypeORM' },
  { sql: 'RELEASE typeorm_1', kind: 'transaction', needs: 'savepoint' },
  { sql: 'ROLLBACK TRANSACTION TO typeorm_1', kind: 'transaction', needs: 'savepoint' },
];

export const SQLITE_SESSION: readonly SqliteCorpusEntry[] = [
  { sql: 'PRAGMA foreign_keys = ON', kind: 'session', note: 'TypeORM at connect' },
  { sql: 'PRAGMA foreign_keys = OFF', kind: 'session', note: 'TypeORM around migrations' },
  { sql: 'PRAGMA read_uncommitted = true', kind: 'session', note: 'TypeORM for READ UNCOMMITTED' },
  { sql: 'PRAGMA busy_timeout = 3000', kind: 'session' },
  { sql: 'PRAGMA cache_size = -4000', kind: 'session' },
  { sql: 'PRAGMA query_only = ON', kind: 'session', note: 'read-only may be switched on' },
  { sql: 'PRAGMA query_only(1)', kind: 'session' },
];

export const SQLITE_WRITES: readonly SqliteCorpusEntry[] = [
  { sql: 'INSERT INTO "items"("id", "name", "price", "stock", "active", "picture") VALUES (NULL, ?, 9, 1, 1, ?)', kind: 'write', note: 'TypeORM insert' },
  { sql: 'INSERT INTO "items"("id", "name", "price", "stock", "active", "picture") VALUES (NULL, ?, 9, 1, 1, ?) ON CONFLICT ( "name" ) DO UPDATE SET "name" = EXCLUDED."name", "price" = EXCLUDED."price", "stock" = EXCLUDED."stock"', kind: 'write', note: 'TypeORM upsert' },
  { sql: 'INSERT INTO "purchases"("id", "quantity", "created_at", "item_id") VALUES (NULL, 2, datetime(\'now\'), 1)', kind: 'write', note: 'TypeORM save with a relation' },
  { sql: 'UPDATE "items" SET "stock" = "stock" + 1 WHERE "id" = 1', kind: 'write', note: 'TypeORM increment (fires a trigger)' },
  { sql: 'UPDATE "items" SET "price" = 3 WHERE "id" = 1', kind: 'write', note: 'TypeORM update' },
  { sql: 'DELETE FROM "items" WHERE "name" = ?', kind: 'write', note: 'TypeORM delete' },
  { sql: 'DELETE FROM "purchases"', kind: 'write', note: 'TypeORM clear' },
  { sql: "INSERT OR REPLACE INTO items (id, name, price, stock) VALUES (1, 'apple', 9, 9)", kind: 'write' },
  { sql: "REPLACE INTO items (name, price, stock) VALUES ('kiwi', 1, 1)", kind: 'write' },
  { sql: "INSERT OR IGNORE INTO items (name, price, stock) VALUES ('apple', 1, 1), ('fig', 2, 2)", kind: 'write' },
  { sql: 'INSERT INTO item_log (item_id) SELECT id FROM items', kind: 'write' },
  { sql: 'INSERT INTO item_log DEFAULT VALUES', kind: 'write' },
  { sql: "INSERT INTO items (name, price, stock) VALUES ('lime', 1, 1) RETURNING id", kind: 'write', note: 'RETURNING makes a write look like a reader' },
  { sql: 'UPDATE OR IGNORE items SET stock = 0 WHERE id = ?', kind: 'write' },
  { sql: 'UPDATE items SET stock = p.quantity FROM (SELECT item_id, quantity FROM purchases) AS p WHERE p.item_id = items.id', kind: 'write', note: 'UPDATE … FROM' },
  { sql: 'UPDATE items SET stock = stock - 1 WHERE id = 1 RETURNING stock', kind: 'write' },
  { sql: 'DELETE FROM items WHERE id = 2 RETURNING *', kind: 'write' },
  { sql: 'WITH gone AS (SELECT id FROM items WHERE stock = 0) DELETE FROM items WHERE id IN (SELECT id FROM gone)', kind: 'write', note: 'a CTE feeding DELETE' },
  { sql: 'WITH n AS (SELECT 5 AS s) UPDATE items SET stock = (SELECT s FROM n)', kind: 'write', note: 'a CTE feeding UPDATE' },
  { sql: "WITH v(name) AS (VALUES ('cherry')) INSERT INTO items (name, price, stock) SELECT name, 1, 1 FROM v", kind: 'write', note: 'a CTE feeding INSERT' },
  { sql: "INSERT INTO notes (notes) VALUES ('optimize')", kind: 'write', note: 'an FTS5 command is an INSERT' },
  { sql: 'DELETE FROM "items" WHERE "id" = 1 -- ; SELECT 1', kind: 'write', note: 'a read in a trailing comment' },
];

export const SQLITE_DDL: readonly SqliteCorpusEntry[] = [
  { sql: 'CREATE TABLE "typeorm_metadata" ("type" varchar NOT NULL, "database" varchar, "schema" varchar, "table" varchar, "name" varchar, "value" text)', kind: 'ddl', note: 'TypeORM synchronize' },
  { sql: 'CREATE TABLE IF NOT EXISTS extra (id integer PRIMARY KEY, note text)', kind: 'ddl' },
  { sql: 'CREATE TEMP TABLE scratch (x)', kind: 'ddl', note: 'even a temporary table' },
  { sql: 'CREATE UNIQUE INDEX IF NOT EXISTS idx_items_price ON items (price)', kind: 'ddl' },
  { sql: 'CREATE VIEW cheap_items AS SELECT * FROM items WHERE price < 1', kind: 'ddl' },
  { sql: 'CREATE TRIGGER items_no_delete BEFORE DELETE ON items BEGIN SELECT RAISE(ABORT, \'no\'); UPDATE items SET stock = 0 WHERE id = old.id; END', kind: 'ddl', note: 'semicolons inside a trigger body' },
  { sql: 'CREATE VIRTUAL TABLE docs USING fts5(body)', kind: 'ddl' },
  { sql: 'DROP TABLE "item_log"', kind: 'ddl' },
  { sql: 'DROP INDEX "IDX_purchases_item"', kind: 'ddl' },
  { sql: 'DROP VIEW item_names', kind: 'ddl' },
  { sql: 'DROP TRIGGER items_stock_log', kind: 'ddl' },
  { sql: 'ALTER TABLE items ADD COLUMN colour text', kind: 'ddl' },
  { sql: 'ALTER TABLE "item_log" RENAME TO "item_history"', kind: 'ddl', note: 'TypeORM synchronize' },
  { sql: 'ALTER TABLE items RENAME COLUMN stock TO quantity', kind: 'ddl' },
  { sql: 'ALTER TABLE items DROP COLUMN picture', kind: 'ddl' },
];

export const SQLITE_ESCAPES: readonly SqliteCorpusEntry[] = [
  { sql: `ATTACH DATABASE '${SCRATCH_DIR}/attached.db' AS other`, kind: 'escape', note: 'ATTACH creates the file it names' },
  { sql: `ATTACH '${SCRATCH_DIR}/attached2.db' AS other2`, kind: 'escape' },
  { sql: `VACUUM INTO '${SCRATCH_DIR}/copy.db'`, kind: 'escape', note: 'writes a copy of the database; query_only alone lets the empty file be created' },
  { sql: 'PRAGMA query_only = OFF', kind: 'escape' },
  { sql: 'PRAGMA query_only = 0', kind: 'escape' },
  { sql: 'PRAGMA query_only = banana', kind: 'escape', note: 'SQLite reads an unknown word as off' },
  { sql: 'PRAGMA main.query_only(false)', kind: 'escape' },
  { sql: 'PRAGMA writable_schema = ON', kind: 'escape' },
  { sql: 'PRAGMA trusted_schema = 1', kind: 'escape' },
  { sql: "SELECT load_extension('/tmp/mirrorguard-no-such-extension.so')", kind: 'escape', runFails: 'not authorized' },
  { sql: 'SELECT "load_extension"(?)', kind: 'escape', note: 'a quoted function name', runFails: 'not authorized' },
  { sql: "SELECT 1 WHERE 0 OR LOAD_EXTENSION('x') IS NULL", kind: 'escape', runFails: 'not authorized' },
  { sql: 'SELECT 1; DELETE FROM items', kind: 'escape', note: 'a write after a read' },
  { sql: 'SELECT 1; PRAGMA query_only = OFF;', kind: 'escape' },
  { sql: "SELECT 'a\\'; DELETE FROM items; --'", kind: 'escape', note: 'no backslash escapes: the string ends at the second quote' },
];

export const SQLITE_LOCKS: readonly SqliteCorpusEntry[] = [
  { sql: 'BEGIN IMMEDIATE', kind: 'lock' },
  { sql: 'BEGIN EXCLUSIVE TRANSACTION', kind: 'lock' },
  { sql: 'PRAGMA locking_mode = EXCLUSIVE', kind: 'lock' },
];

export const SQLITE_SIDE_EFFECTS: readonly SqliteCorpusEntry[] = [
  { sql: 'VACUUM', kind: 'side-effect' },
  { sql: 'VACUUM main', kind: 'side-effect' },
  { sql: 'REINDEX', kind: 'side-effect' },
  { sql: 'REINDEX items', kind: 'side-effect' },
  { sql: 'ANALYZE', kind: 'side-effect' },
  { sql: 'ANALYZE items', kind: 'side-effect' },
  { sql: 'DETACH DATABASE other', kind: 'side-effect', needs: 'attached' },
  { sql: 'PRAGMA optimize', kind: 'side-effect' },
  { sql: 'PRAGMA wal_checkpoint(TRUNCATE)', kind: 'side-effect' },
  { sql: 'PRAGMA incremental_vacuum(10)', kind: 'side-effect' },
  { sql: 'PRAGMA user_version = 8', kind: 'side-effect', note: 'written to the file header' },
  { sql: 'PRAGMA main.user_version(9)', kind: 'side-effect' },
  { sql: 'PRAGMA application_id = 42', kind: 'side-effect' },
  { sql: 'PRAGMA schema_version = 99', kind: 'side-effect' },
  { sql: 'PRAGMA journal_mode = WAL', kind: 'side-effect', note: 'TypeORM enableWAL' },
  { sql: 'PRAGMA page_size = 8192', kind: 'side-effect' },
  { sql: 'PRAGMA auto_vacuum = FULL', kind: 'side-effect' },
  { sql: 'PRAGMA synchronous = OFF', kind: 'side-effect' },
  { sql: "SELECT fts3_tokenizer('simple')", kind: 'side-effect' },
  { sql: 'PRAGMA shrink_memory', kind: 'side-effect' },
];

export const SQLITE_UNKNOWN: readonly SqliteCorpusEntry[] = [
  { sql: 'PRAGMA table_info = items', kind: 'unknown', note: 'the = form of a read pragma is not on the allow-list' },
  { sql: 'PRAGMA no_such_pragma', kind: 'unknown', note: 'SQLite ignores unknown pragmas; the classifier refuses them' },
  { sql: 'PRAGMA count_changes', kind: 'unknown', note: 'a deprecated pragma' },
  { sql: 'SELECT $a(x)', kind: 'unknown', note: 'a TCL-style parameter' },
  { sql: 'SELECT $a::b', kind: 'unknown', note: 'a TCL-style parameter' },
  { sql: 'SELECT 1 /* unterminated', kind: 'unknown', note: 'SQLite reads an unterminated comment to the end; the classifier refuses it' },
];

export const SQLITE_CORPUS: readonly SqliteCorpusEntry[] = [
  ...SQLITE_READS,
  ...SQLITE_TRANSACTIONS,
  ...SQLITE_SESSION,
  ...SQLITE_WRITES,
  ...SQLITE_DDL,
  ...SQLITE_ESCAPES,
  ...SQLITE_LOCKS,
  ...SQLITE_SIDE_EFFECTS,
  ...SQLITE_UNKNOWN,
];

/** The statement with SCRATCH_DIR pointing at `folder`. */
export const inFolder = (sql: string, folder: string): string => sql.replaceAll(SCRATCH_DIR, folder);
