import type { Mysql2Command } from './mysql2-shapes.ts';

// A refused or simulated command keeps its place in the connection's queue, so ordering, callbacks,
// promises, events and streams behave as they would for a reply from the server; only its `start`
// is replaced, so that when its turn comes it answers at once and nothing is written to the socket.

/** When its turn comes, the command fails with `error`, as if the server had answered with it. */
export function answerWithError(command: Mysql2Command, error: Error): void {
  command.start = function answerLocallyWithError(this: Mysql2Command) {
    if (this.onResult) this.onResult(error);
    else this.emit('error', error);
    return null;
  };
}

/** When its turn comes, the command succeeds with an OK result, as if the server had run a write. */
export function answerWithResult(command: Mysql2Command, result: object): void {
  command.start = function answerLocallyWithResult(this: Mysql2Command) {
    this.emit('fields', undefined);
    this.emit('result', result);
    const onResult = this.onResult;
    if (onResult) process.nextTick(() => onResult(null, result));
    return null;
  };
}

/** For a command that will never get a turn (its connection was destroyed): settles it now. */
export function failDetached(command: Mysql2Command, error: Error): void {
  process.nextTick(() => {
    if (command.onResult) command.onResult(error);
    else if (command.listenerCount('error') > 0) command.emit('error', error);
    command.emit('end');
  });
}
