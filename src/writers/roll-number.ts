import { readdir } from 'node:fs/promises';
import { basename, dirname } from 'node:path';

/**
 * The number of the file a rolling log opens at start: the highest `<name>.<n><ext>` roll of this log alone, or the
 * next one when that roll is already compressed (appending to a number whose `.gz` exists would later compress
 * over it). pino-roll 4's own detection takes trailing digits from every file in the directory with the same
 * extension, so `r_18110.log` opened `r_18110.18110.log` and `orders-api_18101.log` beside `demo_8080.log` opened
 * `orders-api_18101.8080.log`; it also restarts at 1 in each new interval, over older rolls.
 * `pathWithoutExt` is pino-roll's file (the configured path less its extension), `ext` its extension.
 */
export async function nextRollNumber(pathWithoutExt: string, ext = ''): Promise<number> {
  const dotExt = ext && !ext.startsWith('.') ? '.' + ext : ext;
  const roll = new RegExp('^' + escapeRegExp(basename(pathWithoutExt)) + '\\.(\\d+)' + escapeRegExp(dotExt) + '(\\.gz)?$');
  let highest = 0;
  let highestCompressed = false;
  let names: string[];
  try {
    names = await readdir(dirname(pathWithoutExt));
  } catch {
    return 1;
  }
  for (const name of names) {
    const m = roll.exec(name);
    if (!m) continue;
    const n = Number(m[1]);
    const compressed = m[2] !== undefined;
    if (n > highest) {
      highest = n;
      highestCompressed = compressed;
    } else if (n === highest && !compressed) {
      highestCompressed = false;
    }
  }
  if (highest === 0) return 1;
  return highestCompressed ? highest + 1 : highest;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
