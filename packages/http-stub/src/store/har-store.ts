import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { MirrorGuardError } from '@mirrorguard/core';
import type { RecordedExchange } from '../exchange/exchange.ts';
import type { ExchangeStore } from './exchange-store.ts';
import { fromHar, invalidRecording, toHar } from './har-file.ts';
import { writeRecordingFile } from './write-recording-file.ts';

/** How long recording gathers exchanges before the file is rewritten. */
const FLUSH_DELAY_MS = 250;

export interface HarStoreOptions {
  /** The HAR file of this recording (one file per recording name). */
  readonly file: string;
}

async function readExchanges(file: string): Promise<RecordedExchange[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    // No file yet: nothing recorded.
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  return parseRecording(text, file);
}

/** A replay's recording, read at start-up: a file that is missing, unreadable or not a recording is an error now. */
function readRecordingToReplay(file: string): RecordedExchange[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new MirrorGuardError(
      'MG_ERR_HTTP_RECORDING_MISSING',
      `mirrorguard http-stub: the recording ${file} cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}): replay needs the file a record run wrote`,
      { cause: error },
    );
  }
  return parseRecording(text, file);
}

function parseRecording(text: string, file: string): RecordedExchange[] {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    // The parser's message quotes the text near the fault: it is kept redacted, and the parser's error is not attached.
    throw invalidRecording(`${file}: not JSON: ${(error as Error).message}`);
  }
  return fromHar(json, file);
}

/**
 * A HAR 1.2 file as the store. Replay reads it once, when the stub is made (a missing, unreadable or
 * invalid file fails then), and never writes it. Recording keeps what the file held, adds each
 * exchange, and writes the whole file atomically at most every 250 ms while recording, and on
 * close: mode 0600, through a new file with an unpredictable name beside it, never through a
 * symbolic link (see `writeRecordingFile`).
 */
export function harStore(options: HarStoreOptions): ExchangeStore {
  const { file } = options;
  let loaded: Promise<RecordedExchange[]> | undefined;
  const load = (): Promise<RecordedExchange[]> => (loaded ??= readExchanges(file));
  let dirty = false;
  let writing: Promise<void> = Promise.resolve();
  let scheduled: NodeJS.Timeout | undefined;

  const write = async (): Promise<void> => {
    if (!dirty) return;
    const exchanges = await load();
    const count = exchanges.length;
    await writeRecordingFile(file, `${JSON.stringify(toHar(exchanges), null, 2)}\n`);
    // Written: unless more came meanwhile, nothing is pending. A failed write leaves it pending for close().
    if (exchanges.length === count) dirty = false;
  };
  const flush = (): Promise<void> => {
    if (scheduled !== undefined) clearTimeout(scheduled);
    scheduled = undefined;
    writing = writing.then(write, write);
    return writing;
  };
  // A timed flush that fails is retried by the next one and reported by close(): never unhandled.
  const flushLater = (): void => {
    flush().catch(() => undefined);
  };

  return {
    description: file,
    async exchangesFor(requestId) {
      return (await load()).filter((exchange) => exchange.requestId === requestId);
    },
    async record(exchange) {
      (await load()).push(exchange);
      dirty = true;
      // The whole file is rewritten: at most every FLUSH_DELAY_MS while recording, and on close.
      scheduled ??= setTimeout(flushLater, FLUSH_DELAY_MS).unref();
    },
    beginReplay() {
      const exchanges = readRecordingToReplay(file);
      loaded = Promise.resolve(exchanges);
    },
    beginRecording() {
      // Recording replaces the file's exchanges (written on the first flush), never adds to an earlier run's.
      loaded = Promise.resolve([]);
      dirty = true;
    },
    async close() {
      await flush();
      // What a failed timed write left pending is written now, or the error reaches the caller.
      if (dirty) await flush();
      if (dirty) throw new MirrorGuardError('MG_ERR_HTTP_RECORDING_INVALID', `${file}: the recording could not be written`);
    },
  };
}
