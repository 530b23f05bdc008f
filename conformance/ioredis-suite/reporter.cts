// A mocha reporter that writes each outcome as it happens (one JSON line per test or failed
// hook), so a run that crashes or is killed still leaves what it had measured; prints one
// character per test (. passed, F failed, , pending).
import type * as FsModule from 'node:fs';

const fs: typeof FsModule = require('node:fs');

interface Runnable {
  fullTitle(): string;
  file?: string;
  type?: string;
  duration?: number;
}

interface Runner {
  total: number;
  on(event: 'pass' | 'pending', listener: (test: Runnable) => void): void;
  on(event: 'fail', listener: (test: Runnable, error: unknown) => void): void;
  on(event: 'end', listener: () => void): void;
  once(event: 'start', listener: () => void): void;
}

const firstLines = (error: unknown): string => {
  const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return text.split('\n').slice(0, 3).join(' | ').slice(0, 400);
};

class ConformanceReporter {
  constructor(runner: Runner) {
    const file = process.env['MG_RESULTS_FILE'];
    if (file === undefined) throw new Error('conformance reporter: MG_RESULTS_FILE is not set');
    fs.writeFileSync(file, '');
    const write = (record: object): void => fs.appendFileSync(file, `${JSON.stringify(record)}\n`);
    const counts = { passed: 0, failed: 0, pending: 0 };
    const tick = (mark: string): void => {
      process.stderr.write(mark);
    };
    runner.once('start', () => write({ event: 'start', total: runner.total }));
    runner.on('pass', (test) => {
      counts.passed += 1;
      write({ event: 'pass', title: test.fullTitle(), file: test.file });
      tick('.');
    });
    runner.on('pending', (test) => {
      counts.pending += 1;
      write({ event: 'pending', title: test.fullTitle(), file: test.file });
      tick(',');
    });
    runner.on('fail', (test, error) => {
      counts.failed += 1;
      write({ event: 'fail', title: test.fullTitle(), file: test.file, hook: test.type === 'hook', error: firstLines(error) });
      tick('F');
    });
    runner.on('end', () => {
      write({ event: 'end', ...counts });
      process.stderr.write(`\n${counts.passed} passing, ${counts.failed} failing, ${counts.pending} pending\n`);
    });
  }
}

module.exports = ConformanceReporter;
