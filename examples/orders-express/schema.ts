/** The orders service's tables (what `entities.ts` maps), for MariaDB/MySQL and for SQLite. */
export const ORDERS_TABLES: Readonly<Record<'mariadb' | 'sqlite', readonly string[]>> = {
  mariadb: [
    'CREATE TABLE products (id INT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(50) NOT NULL, price INT NOT NULL, stock INT NOT NULL)',
    'CREATE TABLE orders (id INT AUTO_INCREMENT PRIMARY KEY, product_id INT NOT NULL, quantity INT NOT NULL, total INT NOT NULL, status VARCHAR(20) NOT NULL, payment_id VARCHAR(64) NULL)',
  ],
  sqlite: [
    'CREATE TABLE products (id INTEGER PRIMARY KEY AUTOINCREMENT, name VARCHAR(50) NOT NULL, price INTEGER NOT NULL, stock INTEGER NOT NULL)',
    'CREATE TABLE orders (id INTEGER PRIMARY KEY AUTOINCREMENT, product_id INTEGER NOT NULL, quantity INTEGER NOT NULL, total INTEGER NOT NULL, status VARCHAR(20) NOT NULL, payment_id VARCHAR(64) NULL)',
  ],
};
