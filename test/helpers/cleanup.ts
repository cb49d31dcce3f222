import { afterEach } from 'vitest';

export interface UndoList {
  /** What to undo after the test (stop a process or server, remove a directory), whether it passed or failed. */
  push(...undo: Array<() => unknown>): void;
}

/**
 * Registers an afterEach (in the file or describe block it is called from) that runs, last pushed first and each
 * awaited, whatever the test pushed: a failed test leaves no process, server or directory behind.
 */
export function undoAfterEach(): UndoList {
  const pending: Array<() => unknown> = [];
  afterEach(async () => {
    while (pending.length > 0) await pending.pop()!();
  });
  return { push: (...undo) => void pending.push(...undo) };
}
