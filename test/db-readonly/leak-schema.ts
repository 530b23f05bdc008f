import { createConnection, type Connection } from 'mysql2/promise';
import { MYSQL_URL } from '../support/servers.ts';
import { databaseUrl } from './server-oracles.ts';

export const LEAK_DATABASE = 'mirrorguard_leak';

/** A URL for the leak database, with the user (and password) of MYSQL_URL or the ones given. */
export function leakUrl(user?: { name: string; password: string }): string {
  return databaseUrl(LEAK_DATABASE, user);
}

/** An unguarded admin connection to the leak database: for setting up and for the independent checks. */
export async function adminConnection(): Promise<Connection> {
  return createConnection({ uri: leakUrl(), multipleStatements: true });
}

/**
 * (Re)creates the leak schema: tables with data, a view, a sequence, a stored procedure that writes,
 * and a stored function that writes (the known hole of client-side checks, closed by the server).
 */
export async function createLeakSchema(): Promise<void> {
  const root = await createConnection({ uri: MYSQL_URL, multipleStatements: true });
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
