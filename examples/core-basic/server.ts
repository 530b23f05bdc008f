import type { AddressInfo } from 'node:net';
import { createGuards, jsonlFileSink } from '@mirrorguard/core';
import { createApp } from './app.ts';
import { noteStoreProvider } from './note-store-provider.ts';

// NOTES_FILE: the shared data; JOURNAL_FILE: where this process journals. The profile comes from
// MIRROR / MIRROR_PROFILE, as in any service.
const guards = await createGuards({
  providers: { notes: noteStoreProvider(process.env.NOTES_FILE ?? 'notes.json') },
  journal: { sinks: process.env.JOURNAL_FILE ? [jsonlFileSink(process.env.JOURNAL_FILE)] : [] },
});

const server = createApp(guards.notes).listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  console.log(JSON.stringify({ profile: guards.profile, port }));
});

process.once('SIGTERM', () => {
  server.close(() => void guards.close().then(() => process.exit(0)));
});
