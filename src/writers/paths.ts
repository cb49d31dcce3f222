import { homedir } from 'node:os';
import { resolve } from 'node:path';

/** "~/x" → "$HOME/x", then absolute. */
export function expandHome(p: string): string {
  if (p === '~') return homedir();
  if (p.startsWith('~/')) return resolve(homedir(), p.slice(2));
  return resolve(p);
}

export function parseMode(mode: unknown, fallback: number): number {
  return typeof mode === 'string' ? parseInt(mode, 8) : fallback;
}
