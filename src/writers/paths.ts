import { mkdir, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, resolve } from 'node:path';
import { OptionError } from '../core/module-options.js';

/** "~/x" → "$HOME/x", then absolute. */
export function expandHome(p: string): string {
  if (p === '~') return homedir();
  if (p.startsWith('~/')) return resolve(homedir(), p.slice(2));
  return resolve(p);
}

/** "0600" or "600" → 0o600; throws an OptionError naming `key` for anything else. */
export function parseMode(key: string, mode: string): number {
  if (!/^0?[0-7]{3}$/.test(mode)) throw new OptionError([key], `${key} "${mode}" is not an octal mode such as "0600"`);
  return parseInt(mode, 8);
}

/**
 * mkdir -p, one level at a time. node's recursive mkdir never returns under /proc (it retries ENOENT for good,
 * holding a thread of libuv's pool, and with it the log thread's end and process.exit); a plain mkdir fails.
 */
export async function makeDirectory(dir: string, mode: number): Promise<void> {
  try {
    if ((await stat(dir)).isDirectory()) return;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    const parent = dirname(dir);
    if (parent !== dir) await makeDirectory(parent, mode);
  }
  try {
    await mkdir(dir, { mode });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
}
