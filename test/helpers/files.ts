import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from './wait.js';

/** A fresh directory kflog-<prefix>-XXXXXX under the system temp dir; `cleanup` removes it with everything in it. */
export function tempDir(prefix = 'test'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `kflog-${prefix}-`));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Lines of a file (without the trailing empty one); [] when it does not exist yet. */
export function readLines(path: string): string[] {
  if (!existsSync(path)) return [];
  const text = readFileSync(path, 'utf8');
  return text.split('\n').filter((l, i, a) => !(i === a.length - 1 && l === ''));
}

/** Polls (with a deadline) until `test` holds for the file's lines, and returns them. */
export async function waitForLines(path: string, test: (lines: string[]) => boolean, timeoutMs = 10_000): Promise<string[]> {
  let lines: string[] = [];
  await waitFor(
    () => `${path}; it has ${lines.length} lines:\n${lines.slice(-5).join('\n')}`,
    () => test((lines = readLines(path))),
    timeoutMs,
  );
  return lines;
}
