// Runs the notes service twice over one shared notes file: a primary (MIRROR_PROFILE=record) and a
// mirror (MIRROR=1), the same code with another environment. Each request goes to both with the same
// x-request-id, as a mirroring proxy sends it. Prints what each process journaled, request by request,
// and checks that the mirror never changed the shared file. Exits non-zero if it did.
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import type { JournalEvent } from '@mirrorguard/core';

const work = mkdtempSync(join(tmpdir(), 'mirrorguard-example-'));
const notesFile = join(work, 'notes.json');
writeFileSync(notesFile, JSON.stringify([{ id: 1, text: 'buy milk' }, { id: 2, text: 'call the bank' }], null, 2));
const checksum = (): string => createHash('sha256').update(readFileSync(notesFile)).digest('hex');

interface Service {
  readonly name: string;
  readonly child: ChildProcess;
  readonly base: string;
  readonly journal: string;
}

async function start(name: string, env: Record<string, string>): Promise<Service> {
  const journal = join(work, `${name}.jsonl`);
  const child = spawn(process.execPath, [new URL('./server.ts', import.meta.url).pathname], {
    env: { ...process.env, MIRROR: '', MIRROR_PROFILE: '', ...env, NOTES_FILE: notesFile, JOURNAL_FILE: journal },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const [line] = (await once(createInterface({ input: child.stdout! }), 'line')) as [string];
  const { port, profile } = JSON.parse(line) as { port: number; profile: string };
  console.log(`${name.padEnd(7)} profile=${profile} on http://127.0.0.1:${port}`);
  return { name, child, base: `http://127.0.0.1:${port}`, journal };
}

const primary = await start('primary', { MIRROR_PROFILE: 'record' });
const mirror = await start('mirror', { MIRROR: '1' });

const requests: Array<{ method: string; path: string; body?: unknown }> = [
  { method: 'GET', path: '/notes' },
  { method: 'POST', path: '/notes', body: { text: 'water the plants' } },
  { method: 'DELETE', path: '/notes/1' },
  { method: 'POST', path: '/notes', body: { text: 'renew passport' } },
  { method: 'GET', path: '/notes' },
];

let mirrorChangedFile = false;
console.log('\nrequest      method path        primary  mirror');
for (const [index, { method, path, body }] of requests.entries()) {
  const init = {
    method,
    headers: { 'x-request-id': `req-${index + 1}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  };
  const before = checksum();
  const fromMirror = await fetch(`${mirror.base}${path}`, init);
  if (checksum() !== before) mirrorChangedFile = true;
  const fromPrimary = await fetch(`${primary.base}${path}`, init);
  console.log(`req-${index + 1}`.padEnd(13) + method.padEnd(7) + path.padEnd(12) + String(fromPrimary.status).padEnd(9) + fromMirror.status);
}

for (const service of [primary, mirror]) {
  service.child.kill('SIGTERM');
  await once(service.child, 'exit');
}

const read = (file: string): JournalEvent[] =>
  readFileSync(file, 'utf8').trim().split('\n').filter(Boolean).map((line) => JSON.parse(line) as JournalEvent);
const primaryEvents = read(primary.journal);
const mirrorEvents = read(mirror.journal);

console.log('\nside effects by request (from the two journals)');
for (const { requestId } of requests.map((_, index) => ({ requestId: `req-${index + 1}` }))) {
  const mine = (events: JournalEvent[]): string =>
    events.filter((event) => event.requestId === requestId).map((event) => `${event.action} ${event.operation}`).join('; ') || '-';
  console.log(`${requestId.padEnd(7)} primary: ${mine(primaryEvents).padEnd(34)} mirror: ${mine(mirrorEvents)}`);
}

console.log(`\nnotes file changed by the mirror: ${mirrorChangedFile ? 'YES — leak!' : 'no'}`);
console.log(`journals: ${primary.journal}, ${mirror.journal}`);
process.exitCode = mirrorChangedFile ? 1 : 0;
