import express from 'express';

export type PaymentsApp = express.Express & {
  /** The charges asked for, in order. */
  readonly charges: Array<{ order: number; amount: number }>;
  /** Every request received, whatever its method, path or body: `METHOD /path`. */
  readonly requests: string[];
};

/** The payments service the orders service calls: charges up to 1,000 are captured, larger ones declined. Charge ids count up (ch_000001, …), so two runs of the same workload leave the same data. */
export function createPaymentsApp(): PaymentsApp {
  const app = express() as express.Express & { charges: PaymentsApp['charges']; requests: string[] };
  app.charges = [];
  app.requests = [];
  app.use((request, _response, next) => {
    app.requests.push(`${request.method} ${request.url}`);
    next();
  });
  app.use(express.json());
  app.post('/charges', (request, response) => {
    const charge = request.body as { order: number; amount: number };
    app.charges.push(charge);
    if (charge.amount > 1000) response.status(402).json({ status: 'declined' });
    else response.status(201).json({ id: `ch_${String(app.charges.length).padStart(6, '0')}`, status: 'captured' });
  });
  return app;
}
