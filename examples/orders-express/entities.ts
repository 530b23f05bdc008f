import { EntitySchema } from 'typeorm';

export interface Product {
  id: number;
  name: string;
  price: number;
  stock: number;
}

export interface Order {
  id: number;
  productId: number;
  quantity: number;
  total: number;
  status: string;
  paymentId: string | null;
}

export const ProductSchema = new EntitySchema<Product>({
  name: 'Product',
  tableName: 'products',
  columns: {
    id: { type: Number, primary: true, generated: true },
    name: { type: String },
    price: { type: Number },
    stock: { type: Number },
  },
});

export const OrderSchema = new EntitySchema<Order>({
  name: 'Order',
  tableName: 'orders',
  columns: {
    id: { type: Number, primary: true, generated: true },
    productId: { name: 'product_id', type: Number },
    quantity: { type: Number },
    total: { type: Number },
    status: { type: String },
    paymentId: { name: 'payment_id', type: String, nullable: true },
  },
});
