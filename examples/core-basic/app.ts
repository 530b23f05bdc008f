import express, { type Express } from 'express';
import { requestContextMiddleware } from '@mirrorguard/core';
import type { NoteStore } from './note-store.ts';

/** The app code: no profile checks anywhere; it uses whatever store it is given. */
export function createApp(notes: NoteStore): Express {
  const app = express();
  app.use(requestContextMiddleware());
  app.use(express.json());
  app.get('/notes', (_request, response) => {
    response.json(notes.list());
  });
  app.post('/notes', (request, response) => {
    response.status(201).json(notes.add(String(request.body?.text ?? '')));
  });
  app.delete('/notes/:id', (request, response) => {
    response.sendStatus(notes.remove(Number(request.params.id)) ? 204 : 404);
  });
  return app;
}
