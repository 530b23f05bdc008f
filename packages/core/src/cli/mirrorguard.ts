import { diffJournals } from '../diff/diff-journals.ts';
import { readJournal } from '../diff/read-journal.ts';
import { summarizeJournal } from '../diff/summarize-journal.ts';
import { formatDiff, formatSummary } from './format-text.ts';

const USAGE = `usage:
  mirrorguard diff <primary.jsonl> <mirror.jsonl> [--json]   where the mirror would have written something different
  mirrorguard report <journal.jsonl> [--json]                one journal at a glance
exit status: 0 done (diff: no difference), 1 the journals differ, 2 usage or input error`;

/** Runs the CLI; returns the exit status. Output goes to the given writers (stdout, stderr). */
export function runCli(args: readonly string[], out: (text: string) => void, err: (text: string) => void): number {
  const json = args.includes('--json');
  const [command, ...files] = args.filter((arg) => arg !== '--json');
  try {
    if (command === 'diff' && files.length === 2) {
      const diff = diffJournals(readJournal(files[0]!), readJournal(files[1]!));
      out(json ? `${JSON.stringify(diff, null, 2)}\n` : formatDiff(diff));
      return diff.differing === 0 ? 0 : 1;
    }
    if (command === 'report' && files.length === 1) {
      const summary = summarizeJournal(readJournal(files[0]!));
      out(json ? `${JSON.stringify(summary, null, 2)}\n` : formatSummary(summary));
      return 0;
    }
    err(`${USAGE}\n`);
    return 2;
  } catch (error) {
    err(`mirrorguard: ${(error as Error).message}\n`);
    return 2;
  }
}
