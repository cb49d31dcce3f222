import { createReadStream, createWriteStream } from 'node:fs';
import { lstat, readdir, rename, stat, symlink, unlink, utimes } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';

export interface RetentionOptions {
  /** Rotated files kept (the active file aside); undefined = all. */
  keep?: number;
  /** Rotated files last written longer ago than this are removed; undefined = no age limit. */
  keepDays?: number;
  /** Compress rotated files (name.<n>.log → name.<n>.log.gz). */
  gzip: boolean;
  /** Mode of the compressed files (the logs' mode). */
  mode: number;
}

interface Sibling {
  name: string;
  n: number;
  gz: boolean;
  mtimeMs: number;
}

/**
 * What happens around pino-roll's rolls, off the write path: the configured name is kept as a symlink to the
 * active file (so `tail -F access.log` and log readers find it), rotated files are compressed, and the oldest
 * beyond roll_keep / roll_keep_days are removed. Runs one pass at a time; a roll during a pass asks for another.
 */
export class RolledFiles {
  private active: string | undefined;
  private running: Promise<void> = Promise.resolve();
  private again = false;
  private busy = false;
  /** Called with errors of the background work (a failed compression is not a failed write). */
  onError: (err: Error) => void = () => undefined;

  constructor(
    /** The configured filename: where the symlink to the active file lives. */
    private readonly linkPath: string,
    private readonly options: RetentionOptions,
  ) {}

  /** The stream opened `file` (at start, on a roll, on a reopen). */
  opened(file: string): void {
    if (file === this.active) return;
    this.active = file;
    this.schedule();
  }

  /** A new stream is about to be created (after a fault): whatever the last pass believed is stale. */
  reset(): void {
    this.active = undefined;
  }

  /** Resolves when the background work asked for so far is done. */
  async settled(): Promise<void> {
    while (this.busy) await this.running;
  }

  private schedule(): void {
    if (this.busy) {
      this.again = true;
      return;
    }
    this.busy = true;
    this.running = (async () => {
      do {
        this.again = false;
        try {
          await this.pass();
        } catch (err) {
          // Files vanishing under the pass (a deleted directory) are not a fault of ours: the next pass redoes it.
          if ((err as NodeJS.ErrnoException).code !== 'ENOENT') this.onError(err as Error);
        }
      } while (this.again);
      this.busy = false;
    })();
  }

  private async pass(): Promise<void> {
    const active = this.active;
    if (!active) return;
    await this.link(active);
    const parsed = /^(.*)\.(\d+)(\.[^.]*)?$/.exec(basename(active));
    if (!parsed) return;
    const [, base, num, ext = ''] = parsed as unknown as [string, string, string, string | undefined];
    const dir = dirname(active);
    const sibling = new RegExp('^' + escapeRegExp(base) + '\\.(\\d+)' + escapeRegExp(ext) + '(\\.gz)?$');
    const rotated: Sibling[] = [];
    for (const name of await readdir(dir)) {
      const m = sibling.exec(name);
      if (!m || name === basename(active)) continue;
      rotated.push({ name, n: Number(m[1]), gz: m[2] !== undefined, mtimeMs: 0 });
    }
    if (this.options.gzip) {
      for (const f of rotated) {
        if (f.gz || rotated.some((g) => g.gz && g.n === f.n)) continue;
        if (this.active !== active) return; // the writer moved on (rolled again, or recreated): start over

        await this.compress(join(dir, f.name));
        f.name += '.gz';
        f.gz = true;
      }
    }
    for (const f of rotated) f.mtimeMs = (await stat(join(dir, f.name)).catch(() => undefined))?.mtimeMs ?? 0;
    // Newest first: by last write, then by number (pino-roll's numbering can restart, times do not).
    rotated.sort((a, b) => b.mtimeMs - a.mtimeMs || b.n - a.n);
    const doomed = new Set<Sibling>();
    if (this.options.keep !== undefined) for (const f of rotated.slice(this.options.keep)) doomed.add(f);
    if (this.options.keepDays !== undefined) {
      const oldest = Date.now() - this.options.keepDays * 86_400_000;
      for (const f of rotated) if (f.mtimeMs < oldest) doomed.add(f);
    }
    if (this.active !== active) return;
    for (const f of doomed) await unlink(join(dir, f.name)).catch(ignoreMissing);
  }

  /** The configured name points at the active file; a regular file already there is the user's and stays. */
  private async link(active: string): Promise<void> {
    if (active === this.linkPath) return;
    const existing = await lstat(this.linkPath).catch(() => undefined);
    if (existing && !existing.isSymbolicLink()) return;
    const tmp = this.linkPath + '.' + process.pid + '.tmp';
    await unlink(tmp).catch(ignoreMissing);
    await symlink(basename(active), tmp);
    await rename(tmp, this.linkPath);
  }

  /** name → name.gz (written aside, then renamed, so a crash never leaves a truncated .gz under the real name). */
  private async compress(path: string): Promise<void> {
    const tmp = path + '.gz.tmp';
    const original = await stat(path);
    await pipeline(createReadStream(path), createGzip(), createWriteStream(tmp, { mode: this.options.mode }));
    // The archive keeps the log's last-write time: retention by age and order must not restart at compression.
    await utimes(tmp, original.atime, original.mtime);
    await rename(tmp, path + '.gz');
    await unlink(path);
  }
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function ignoreMissing(err: NodeJS.ErrnoException): void {
  if (err.code !== 'ENOENT') throw err;
}
