import { homedir } from 'node:os';
import { resolve } from 'node:path';
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
