// Runs one client of egress-clients.ts away from the test process: in a worker thread (workerData
// in, one message out) or in a child process (argv in, one JSON line out, with the journal the
// child's own lockdown kept). The tests start it; it is not a test.
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { CLIENTS, runClient, type Target } from './egress-clients.ts';

interface Job {
  readonly client: string;
  readonly target: Target;
  /** Make the client's agent or dispatcher first (the 'before' timing, here inside the runner). */
  readonly prepare?: boolean;
}

async function run(job: Job): Promise<unknown> {
  const prepared = job.prepare === true ? CLIENTS[job.client]?.prepare?.() : undefined;
  return runClient(job.client, job.target, prepared);
}

if (!isMainThread) {
  parentPort!.postMessage(await run(workerData as Job));
} else {
  const job = JSON.parse(process.argv[2] ?? '{}') as Job;
  const outcome = await run(job);
  // The child's lockdown (from the preload) kept its refusals until a journal is attached: attach one.
  const core = await import('../../packages/core/src/index.ts');
  const sink = core.memorySink();
  const lockdown = core.getEgressLockdown();
  lockdown?.attachJournal(core.createJournal({ profile: 'mirror', sinks: [sink] }));
  process.stdout.write(`${JSON.stringify({ outcome, locked: lockdown !== undefined, events: sink.events() })}\n`);
  process.exit(0);
}
