import { createConnection, type Connection } from 'mysql2/promise';
import type { ThrowawayMariadb } from '../support/mariadb-server.ts';
import { MYSQL_URL } from '../support/servers.ts';
import { databaseUrl } from './server-oracles.ts';

export const LEAK_DATABASE = 'mirrorguard_leak';

// Each function takes the server's URL: MYSQL_URL, the shared server, unless a test names a private
// one (startMariadbServer's `url`).

/** A URL for the leak database, with the user (and password) of the server's URL or the ones given. */
export function leakUrl(user?: { name: string; password: string }, server: string = MYSQL_URL): string {
  return databaseUrl(LEAK_DATABASE, user, server);
}

/** An unguarded admin connection to the leak database: for setting up and for the independent checks. */
export async function adminConnection(server: string = MYSQL_URL): Promise<Connection> {
  return createConnection({ uri: leakUrl(undefined, server), multipleStatements: true });
}

/**
 * (Re)creates the leak schema: tables with data, a view, a sequence, a stored procedure that writes,
 * and a stored function that writes (the known hole of client-side checks, closed by the server).
 */
async function createLeakSchemaAt(server: string): Promise<void> {
  const root = await createConnection({ uri: server, multipleStatements: true });
  try {
    await root.query(`
      DROP DATABASE IF EXISTS ${LEAK_DATABASE};
      CREATE DATABASE ${LEAK_DATABASE};
      USE ${LEAK_DATABASE};
      CREATE TABLE products (
        id INT PRIMARY KEY AUTO_INCREMENT,
        name VARCHAR(100) NOT NULL,
        price DECIMAL(10, 2) NOT NULL,
        stock INT NOT NULL DEFAULT 0,
        UNIQUE KEY uq_products_name (name)
      ) ENGINE=InnoDB;
      CREATE TABLE orders (
        id INT PRIMARY KEY AUTO_INCREMENT,
        product_id INT NOT NULL,
        quantity INT NOT NULL,
        created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
        CONSTRAINT fk_orders_product FOREIGN KEY (product_id) REFERENCES products (id)
      ) ENGINE=InnoDB;
      INSERT INTO products (name, price, stock) VALUES ('lamp', 12.50, 10), ('desk', 149.00, 3), ('chair', 49.90, 7);
      INSERT INTO orders (product_id, quantity) VALUES (1, 2), (2, 1), (1, 1);
      CREATE VIEW product_names AS SELECT id, name FROM products;
      CREATE SEQUENCE order_numbers;
      CREATE PROCEDURE restock() UPDATE products SET stock = stock + 10;
      CREATE FUNCTION sneaky_write() RETURNS INT MODIFIES SQL DATA BEGIN UPDATE products SET stock = 0; RETURN 1; END;
    `);
  } finally {
    await root.end();
  }
}

/** The leak schema on the shared server (MYSQL_URL); takes no argument, so that it can be a hook itself. */
export function createLeakSchema(): Promise<void> {
  return createLeakSchemaAt(MYSQL_URL);
}

/**
 * The leak schema on a private server (startMariadbServer). Its binary log is on, so the stored
 * function that writes is created only once log_bin_trust_function_creators is set: a global, set
 * here on that server alone.
 */
export async function createPrivateLeakSchema(server: ThrowawayMariadb): Promise<void> {
  const root = await createConnection({ uri: server.url });
  try {
    await root.query('SET GLOBAL log_bin_trust_function_creators = 1');
  } finally {
    await root.end();
  }
  await createLeakSchemaAt(server.url);
}
