import { existsSync, readFileSync } from 'node:fs';

/** Lines of a file (without the trailing empty one); [] when it does not exist yet. */
export function readLines(path: string): string[] {
  if (!existsSync(path)) return [];
  const text = readFileSync(path, 'utf8');
  return text.split('\n').filter((l, i, a) => !(i === a.length - 1 && l === ''));
}

/** Polls (with a deadline) until `test` holds for the file's lines. */
export async function waitForLines(path: string, test: (lines: string[]) => boolean, timeoutMs = 10_000): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const lines = readLines(path);
    if (test(lines)) return lines;
    if (Date.now() > deadline) throw new Error(`timed out waiting on ${path}; it has ${lines.length} lines:\n${lines.slice(-5).join('\n')}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
