import { EntitySchema } from 'typeorm';

export interface Product {
  id: number;
  name: string;
  price: string;
  stock: number;
}

export interface Order {
  id: number;
  quantity: number;
  createdAt: Date;
  product: Product;
}

export const ProductSchema = new EntitySchema<Product>({
  name: 'Product',
  tableName: 'products',
  columns: {
    id: { type: Number, primary: true, generated: true },
    name: { type: String },
    price: { type: 'decimal', precision: 10, scale: 2 },
    stock: { type: Number },
  },
});

export const OrderSchema = new EntitySchema<Order>({
  name: 'Order',
  tableName: 'orders',
  columns: {
    id: { type: Number, primary: true, generated: true },
    quantity: { type: Number },
    createdAt: { name: 'created_at', type: 'datetime', precision: 3, createDate: true },
  },
  relations: {
    product: { type: 'many-to-one', target: 'Product', joinColumn: { name: 'product_id' } },
  },
});
