// Runs clients of egress-clients.ts away from the test process: in a worker thread (workerData in,
// one message out) or in a child process (argv in, one JSON line out, with the journal the child's
// own lockdown kept). The tests start it; it is not a test.
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { runClient, type Outcome, type Target } from './egress-clients.ts';

export interface RunnerJob {
  readonly client: string;
  readonly target: Target;
}

async function runAll(jobs: readonly RunnerJob[]): Promise<Outcome[]> {
  const outcomes: Outcome[] = [];
  for (const job of jobs) outcomes.push(await runClient(job.client, job.target));
  return outcomes;
}

if (!isMainThread) {
  parentPort!.postMessage(await runAll(workerData as RunnerJob[]));
} else {
  const outcomes = await runAll(JSON.parse(process.argv[2] ?? '[]') as RunnerJob[]);
  // The child's lockdown (from the preload) kept its refusals until a journal is attached: attach one.
  const core = await import('../../packages/core/src/index.ts');
  const sink = core.memorySink();
  const lockdown = core.getEgressLockdown();
  lockdown?.attachJournal(core.createJournal({ profile: 'mirror', sinks: [sink] }));
  process.stdout.write(`${JSON.stringify({ outcomes, locked: lockdown !== undefined, events: sink.events() })}\n`);
  // Keep-alive agents would hold the process open.
  process.exit(0);
}
