import { EntitySchema } from 'typeorm';

// The SQLite tests' entities: a product catalogue and its orders, with the column types an app on
// SQLite uses (integer keys, text, real, a boolean, a date, a blob) and a relation.

export interface Item {
  id: number;
  name: string;
  price: number;
  stock: number;
  active: boolean;
  picture: Buffer | null;
}

export interface Purchase {
  id: number;
  quantity: number;
  createdAt: Date;
  item: Item;
}

export const ItemSchema = new EntitySchema<Item>({
  name: 'Item',
  tableName: 'items',
  columns: {
    id: { type: 'integer', primary: true, generated: true },
    name: { type: 'text', unique: true },
    price: { type: 'real' },
    stock: { type: 'integer' },
    active: { type: 'boolean', default: true },
    picture: { type: 'blob', nullable: true },
  },
});

export const PurchaseSchema = new EntitySchema<Purchase>({
  name: 'Purchase',
  tableName: 'purchases',
  columns: {
    id: { type: 'integer', primary: true, generated: true },
    quantity: { type: 'integer' },
    createdAt: { name: 'created_at', type: 'datetime', createDate: true },
  },
  relations: {
    item: { type: 'many-to-one', target: 'Item', joinColumn: { name: 'item_id' }, onDelete: 'CASCADE' },
  },
});
