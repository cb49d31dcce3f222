import { homedir } from 'node:os';
import { sep } from 'node:path';
import type { Config } from '../config/types.js';
import type { FileRole, KnownFile } from './log-files.js';

/** How `kflog logs list` and `kflog logs clean` print files: by group, one line each, a total at the end. */

const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;

/** 34 B, 12.5 KiB, 3.1 MiB, 1.2 GiB. */
export function formatBytes(n: number): string {
  if (n < KiB) return `${n} B`;
  if (n < MiB) return `${(n / KiB).toFixed(1)} KiB`;
  if (n < GiB) return `${(n / MiB).toFixed(1)} MiB`;
  return `${(n / GiB).toFixed(1)} GiB`;
}

/** "7 files" */
export function fileCount(files: readonly KnownFile[]): string {
  return `${files.length} file${files.length === 1 ? '' : 's'}`;
}

/** Their sizes summed: "3.1 MiB". */
export function totalSize(files: readonly KnownFile[]): string {
  return formatBytes(files.reduce((sum, f) => sum + f.size, 0));
}

const NOTE: Record<FileRole, (f: KnownFile) => string> = {
  active: () => '  (active)',
  rolled: () => '',
  link: (f) => `  -> ${f.target}`,
  store: () => '',
};

/** Modification time as `kflog ls` prints times (ISO 8601, UTC), to the second. */
function time(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Groups in the config's order: its forwards, then logs of all forwards, kflog's own messages, the store. */
function groupOrder(config: Config): string[] {
  return [
    ...config.forwards.map((f) => `forward ${f.id}`),
    ...config.logs.map((l) => `log ${l.name}`),
    "kflog's own messages",
    'store',
  ];
}

/** A path under the home directory as ~/…, the way configs name them; any other as it is. */
function shown(path: string): string {
  const home = homedir();
  return path.startsWith(home + sep) ? '~' + path.slice(home.length) : path;
}

const byName = new Intl.Collator('en', { numeric: true }).compare;

/**
 * The files under their group headings, each line its size, modification time, path and what it is (the active
 * file, a link and where it points); `notes` adds lines under a group (who has the store open).
 */
export function listing(config: Config, files: readonly KnownFile[], notes: ReadonlyMap<string, readonly string[]> = new Map()): string {
  const order = groupOrder(config);
  const groups = [...new Set(files.map((f) => f.group))].sort((a, b) => order.indexOf(a) - order.indexOf(b));
  const width = Math.max(0, ...files.map((f) => formatBytes(f.size).length));
  let out = '';
  for (const group of groups) {
    out += `${group}\n`;
    for (const f of files.filter((g) => g.group === group).sort((a, b) => byName(a.path, b.path))) {
      out += `  ${formatBytes(f.size).padStart(width)}  ${time(f.mtimeMs)}  ${shown(f.path)}${NOTE[f.role](f)}\n`;
    }
    for (const note of notes.get(group) ?? []) out += `  (${note})\n`;
  }
  return out;
}
