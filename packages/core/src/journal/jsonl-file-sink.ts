import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { MirrorGuardError } from '../errors/mirrorguard-error.ts';
import type { JournalEvent, JournalSink } from './journal-event.ts';

/**
 * Appends each event as one JSON line. Every line is handed to the kernel with a synchronous write
 * before `write` returns, so a writer that crashes (uncaught error, `process.exit`, even SIGKILL)
 * loses no line it has journaled. Several processes may append to one file: each line is one
 * `O_APPEND` write.
 */
export class JsonlFileSink implements JournalSink {
  readonly path: string;
  #fd: number | undefined;

  constructor(path: string) {
    this.path = path;
    try {
      mkdirSync(dirname(path), { recursive: true });
      // A new journal is the owner's alone (0600): its operations are redacted, but still the app's traffic.
      this.#fd = openSync(path, 'a', 0o600);
    } catch (cause) {
      throw new MirrorGuardError('MG_ERR_JOURNAL_SINK', `cannot open journal file ${path}: ${(cause as Error).message}`, { cause });
    }
  }

  write(event: JournalEvent): void {
    if (this.#fd === undefined) {
      throw new MirrorGuardError('MG_ERR_JOURNAL_SINK', `journal file ${this.path} is closed`);
    }
    const line = Buffer.from(`${JSON.stringify(event)}\n`);
    let written = 0;
    while (written < line.length) written += writeSync(this.#fd, line, written);
  }

  close(): void {
    if (this.#fd === undefined) return;
    closeSync(this.#fd);
    this.#fd = undefined;
  }
}

export function jsonlFileSink(path: string): JsonlFileSink {
  return new JsonlFileSink(path);
}
