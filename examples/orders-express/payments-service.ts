import express from 'express';

/** The payments service the orders service calls: charges up to 1,000 are captured, larger ones declined. Charge ids count up (ch_000001, …), so two runs of the same workload leave the same data. */
export function createPaymentsApp(): express.Express & { readonly charges: Array<{ order: number; amount: number }> } {
  const app = express() as express.Express & { charges: Array<{ order: number; amount: number }> };
  app.charges = [];
  app.use(express.json());
  app.post('/charges', (request, response) => {
    const charge = request.body as { order: number; amount: number };
    app.charges.push(charge);
    if (charge.amount > 1000) response.status(402).json({ status: 'declined' });
    else response.status(201).json({ id: `ch_${String(app.charges.length).padStart(6, '0')}`, status: 'captured' });
  });
  return app;
}
