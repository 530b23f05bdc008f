import { readFileSync } from 'node:fs';
import { MirrorGuardError } from '../errors/mirrorguard-error.ts';
import { JOURNAL_ACTIONS, type JournalEvent } from '../journal/journal-event.ts';

const ACTIONS = new Set<string>(JOURNAL_ACTIONS);

/** The events of a JSONL journal, in file order; a line that is not an event fails, naming the file and line. */
export function readJournal(path: string): JournalEvent[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (cause) {
    throw new MirrorGuardError('MG_ERR_JOURNAL_INVALID', `cannot read journal ${path}: ${(cause as Error).message}`, { cause });
  }
  const events: JournalEvent[] = [];
  for (const [index, line] of text.split('\n').entries()) {
    if (line.trim() === '') continue;
    const where = `${path}:${index + 1}`;
    let event: Partial<JournalEvent>;
    try {
      event = JSON.parse(line) as Partial<JournalEvent>;
    } catch {
      throw new MirrorGuardError('MG_ERR_JOURNAL_INVALID', `${where}: not JSON`);
    }
    if (typeof event !== 'object' || event === null || typeof event.operation !== 'string' || typeof event.dependency !== 'string' || !ACTIONS.has(String(event.action))) {
      throw new MirrorGuardError('MG_ERR_JOURNAL_INVALID', `${where}: not a journal event (needs dependency, action and operation)`);
    }
    events.push(event as JournalEvent);
  }
  return events;
}
