import { fstatSync } from 'node:fs';
import { stat, truncate } from 'node:fs/promises';
import { dirname } from 'node:path';
import { parseDuration } from '../core/duration.js';
import { optionOr, OptionError } from '../core/module-options.js';
import { OutputUnusableError } from './deadline.js';
import { openPlainStream, openRollingStream, whenOpen, type FileStream, type RollSettings } from './file-stream.js';
import { expandHome, makeDirectory, parseMode } from './paths.js';
import { registerWriter } from './registry.js';
import { RolledFiles, type RetentionOptions } from './roll-files.js';
import type { Writer, WriterHealth, WriterModule, WriterOptions } from './writer.js';

const MB = 1024 * 1024;
/** When rolling is asked for with no limit at all: Caddy's defaults (not the schema's: they apply only then). */
const DEFAULT_ROLL_SIZE_MB = 100;
const DEFAULT_ROLL_KEEP = 10;

const FILE_DEFAULTS: Readonly<{ mode: string; dir_mode: string; roll_gzip: boolean }> = {
  // Logs hold request data (bodies, and credentials with log_credentials): the owner's alone, as Caddy's.
  mode: '0600',
  dir_mode: '0700',
  // Compressing costs CPU in the background; asked for when disk matters more.
  roll_gzip: false,
};

export interface FileSettings {
  path: string;
  mode: number;
  dirMode: number;
  /** Written first into every file this writer starts (an empty file, each roll): the format's file header. */
  header?: Buffer;
  /** Absent: one plain file that grows (for an external logrotate, with SIGUSR1). */
  roll?: RollSettings & Omit<RetentionOptions, 'mode'>;
}

/** Config → settings. Rolling is on with `roll: true` or any roll_* option, unless `roll: false`. */
export function fileSettings(options: WriterOptions): FileSettings {
  const path = expandHome(String(options.filename));
  const mode = parseMode('mode', optionOr(options, 'mode', FILE_DEFAULTS.mode));
  const dirMode = parseMode('dir_mode', optionOr(options, 'dir_mode', FILE_DEFAULTS.dir_mode));
  const sizeMb = options.roll_size_mb as number | undefined;
  const interval = options.roll_interval as string | undefined;
  const keep = options.roll_keep as number | undefined;
  const keepDays = options.roll_keep_days as number | undefined;
  const gzip = optionOr(options, 'roll_gzip', FILE_DEFAULTS.roll_gzip);
  const header = typeof options.file_header === 'string' && options.file_header !== '' ? Buffer.from(options.file_header) : undefined;
  const asked = sizeMb !== undefined || interval !== undefined || keep !== undefined || keepDays !== undefined || gzip;
  if (options.roll === false || (options.roll !== true && !asked)) return { path, mode, dirMode, header };
  let frequency: RollSettings['frequency'];
  if (interval === 'hourly' || interval === 'daily') frequency = interval;
  else if (interval !== undefined) {
    const ms = parseDuration(interval);
    if (ms === undefined || ms < 1000) {
      throw new OptionError(['roll_interval'], `roll_interval "${interval}" is not "hourly", "daily" or a duration of at least 1s`);
    }
    frequency = ms;
  }
  const size = sizeMb !== undefined ? Math.round(sizeMb * MB) : frequency === undefined ? DEFAULT_ROLL_SIZE_MB * MB : undefined;
  return { path, mode, dirMode, header, roll: { size, frequency, keep: keep ?? DEFAULT_ROLL_KEEP, keepDays, gzip } };
}

interface PendingWrite {
  resolve(): void;
  reject(err: Error): void;
}

/**
 * A log file: plain and appending, or rolled by pino-roll (size and/or interval) with retention and background
 * compression. Created 0600 in a 0700 directory by default: logs hold request data.
 *
 * Faults heal themselves: a write that fails (ENOSPC, EACCES, a directory replaced by a file…) rejects, its
 * partial bytes are cut off again, and the stream is dropped; the next write recreates directory and file. A
 * file deleted under the writer (rm -rf of its directory) is noticed after the batch that went to it, and that
 * batch is written again to a recreated file, so nothing is lost to a deleted inode.
 */
export class FileWriter implements Writer {
  readonly key: string;
  readonly description: string;
  readonly isTTY = false;
  /** A write settles on SonicBoom's 'drain': every byte of the batch is in the file by then. */
  readonly releasesBatch = true;
  private stream: FileStream | undefined;
  private opening: Promise<FileStream> | undefined;
  private pending: PendingWrite | undefined;
  private readonly rolled: RolledFiles | undefined;
  private health: WriterHealth | undefined;
  private reportedDown = false;
  /** Size of the open file as far as this writer wrote it, to cut off a failed batch's partial bytes. */
  private offset = 0;
  /** Bumped on every (re)open: a batch that straddles one cannot be cut back. */
  private generation = 0;
  private closed = false;
  /** The file the last batch went to, to notice a roll before its new file is open (for the file header). */
  private headedFile: string | null = null;

  constructor(private readonly settings: FileSettings) {
    this.key = 'file:' + settings.path;
    this.description = 'file ' + settings.path;
    if (settings.roll) {
      this.rolled = new RolledFiles(settings.path, { ...settings.roll, mode: settings.mode });
      this.rolled.onError = (err) => this.down(err);
    }
  }

  watch(health: WriterHealth): void {
    this.health = health;
  }

  async open(): Promise<void> {
    await this.current();
  }

  async write(batch: string | Buffer): Promise<void> {
    let data = typeof batch === 'string' ? Buffer.from(batch) : batch;
    if (data.length === 0) return;
    const stream = await this.current();
    if (this.settings.header !== undefined && this.startsFile(stream)) data = Buffer.concat([this.settings.header, data]);
    await this.writeTo(stream, data);
    if (this.unlinked(stream)) {
      // Written to a file nobody can see any more: say so, recreate it, write the batch again.
      this.down(new Error(`${this.settings.path} was deleted; recreating it`));
      this.discard(stream);
      await this.writeTo(await this.current(), data);
    }
    if (this.reportedDown) {
      this.reportedDown = false;
      this.health?.up();
    }
  }

  async reopen(): Promise<void> {
    const stream = this.stream;
    if (!stream) return; // the next write opens afresh
    await makeDirectory(dirname(this.settings.path), this.settings.dirMode);
    if (stream.destroyed) return;
    // SonicBoom reopens once its current write is done; 'ready' (or 'error', handled as any write fault) ends it.
    await new Promise<void>((resolve) => {
      const done = (): void => {
        stream.off('ready', done);
        stream.off('error', done);
        resolve();
      };
      stream.on('ready', done);
      stream.on('error', done);
      stream.reopen();
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    const stream = this.stream ?? (await this.opening?.catch(() => undefined));
    this.stream = undefined;
    if (stream && !stream.destroyed) {
      await new Promise<void>((resolve) => {
        stream.once('close', resolve);
        stream.once('error', () => resolve());
        stream.end();
      });
    }
    await this.rolled?.settled();
  }

  /** The open stream, opening directory and file when there is none (at start, or after a fault). */
  private current(): Promise<FileStream> {
    if (this.stream) return Promise.resolve(this.stream);
    if (this.closed) return Promise.reject(new Error(`${this.description} is closed`));
    this.opening ??= this.create().finally(() => {
      this.opening = undefined;
    });
    return this.opening;
  }

  private async create(): Promise<FileStream> {
    const { path, mode, dirMode, roll } = this.settings;
    if (this.rolled) {
      // A pass over the old files must not run into the new ones (after a deleted directory, names repeat).
      this.rolled.reset();
      await this.rolled.settled();
    }
    await makeDirectory(dirname(path), dirMode);
    await refuseSpecialFile(path);
    const stream = roll ? await openRollingStream(path, mode, roll) : openPlainStream(path, mode);
    try {
      await whenOpen(stream);
    } catch (err) {
      // Never opened: nothing to close, but pino-roll's interval timer must stop, and late errors go nowhere.
      stream.on('error', () => undefined);
      stream.emit('close');
      throw err;
    }
    stream.on('ready', () => this.onOpened(stream));
    stream.on('write', (n: number) => {
      this.offset += n;
    });
    stream.on('drain', () => this.settle(undefined));
    stream.on('error', (err: Error) => this.onError(stream, err));
    this.onOpened(stream);
    this.headedFile = stream.file;
    this.stream = stream;
    return stream;
  }

  /**
   * Whether this batch is the first of a file: the open file is empty, or a roll has begun (pino-roll names the
   * next file at once, and the batch will be written there once it is open).
   */
  private startsFile(stream: FileStream): boolean {
    const starts = stream.file !== this.headedFile || this.offset === 0;
    this.headedFile = stream.file;
    return starts;
  }

  private onOpened(stream: FileStream): void {
    this.generation++;
    try {
      this.offset = fstatSync(stream.fd).size;
    } catch {
      this.offset = 0;
    }
    if (stream.file) this.rolled?.opened(stream.file);
  }

  private writeTo(stream: FileStream, data: Buffer): Promise<void> {
    const start = this.offset;
    const generation = this.generation;
    const file = stream.file;
    return new Promise<void>((resolve, reject) => {
      this.pending = {
        resolve,
        reject: (err) => {
          // Cut the failed batch's partial bytes off again, so a failed batch leaves no half line behind.
          if (generation === this.generation && file) void cutBack(file, start).finally(() => reject(err));
          else reject(err);
        },
      };
      stream.write(data);
    });
  }

  private settle(err: Error | undefined): void {
    const p = this.pending;
    this.pending = undefined;
    if (!p) return;
    if (err) p.reject(err);
    else p.resolve();
  }

  private onError(stream: FileStream, err: Error): void {
    this.discard(stream);
    this.settle(err);
  }

  /** Forget a broken stream; SonicBoom would otherwise keep the failed bytes and write them later, uncounted. */
  private discard(stream: FileStream): void {
    if (this.stream === stream) this.stream = undefined;
    stream.removeAllListeners('drain');
    stream.removeAllListeners('write');
    stream.removeAllListeners('ready');
    stream.on('error', () => undefined);
    if (!stream.destroyed && stream.fd >= 0) stream.destroy();
  }

  private unlinked(stream: FileStream): boolean {
    try {
      return fstatSync(stream.fd).nlink === 0;
    } catch {
      return false;
    }
  }

  private down(err: Error): void {
    this.reportedDown = true;
    this.health?.down(err);
  }
}

/**
 * A FIFO (or socket, or directory) at a file log's path can never be written as a log file, and opening a FIFO
 * that nobody reads blocks a thread of libuv's pool (4 threads, shared with every file operation) for good:
 * refused before it is opened. Character devices (/dev/null, a terminal) are written as files are.
 */
async function refuseSpecialFile(path: string): Promise<void> {
  let st;
  try {
    st = await stat(path);
  } catch {
    return; // absent (created on open) or not reachable: open() says why
  }
  const kind = st.isFIFO() ? 'a FIFO' : st.isSocket() ? 'a socket' : st.isDirectory() ? 'a directory' : undefined;
  if (kind !== undefined) throw new OutputUnusableError(`file ${path} is ${kind}, not a file a log can be written to`);
}

/** Truncate `file` back to `size` when it grew past it (best effort: the fault may forbid even that). */
async function cutBack(file: string, size: number): Promise<void> {
  try {
    const st = await stat(file);
    if (st.size > size) await truncate(file, size);
  } catch {
    // nothing to cut, or not allowed to: the count already says the batch failed
  }
}

export const fileWriter: WriterModule<FileSettings> = {
  name: 'file',
  schema: {
    options: {
      required: ['filename'],
      properties: {
        filename: {
          type: 'string',
          minLength: 1,
          description: 'Path; ~ expands to the home directory; {forward.id} and {listen.port} make one file per forward. When rolling, pino-roll writes name.<n>.log and this name is kept as a symlink to the active file.',
        },
        mode: {
          type: 'string',
          pattern: '^0?[0-7]{3}$',
          description: 'Mode of log files kflog creates (octal string, subject to the umask). Default "0600": logs hold request data.',
        },
        dir_mode: {
          type: 'string',
          pattern: '^0?[0-7]{3}$',
          description: 'Mode of directories kflog creates (octal string, subject to the umask). Default "0700".',
        },
        roll: {
          type: 'boolean',
          description: 'Rotate the file (pino-roll). Default: true when any roll_* option is set, else false (one growing file, for an external logrotate with SIGUSR1). true alone rolls at 100 MiB, keeping 10.',
        },
        roll_size_mb: {
          type: 'number',
          exclusiveMinimum: 0,
          description: 'Rotate when the file reaches this many MiB (checked after each batch: a file may pass it by one batch). Default 100 when rolling without roll_interval.',
        },
        roll_interval: {
          type: 'string',
          description: 'Rotate "hourly", "daily", or every duration ("15m", at least "1s"), aligned to the clock.',
        },
        roll_keep: {
          type: 'integer',
          minimum: 1,
          description: 'Rotated files kept beside the active one; older ones are removed. Default 10 when rolling.',
        },
        roll_keep_days: {
          type: 'integer',
          minimum: 1,
          description: 'Rotated files last written more than this many days ago are removed. Default: no age limit.',
        },
        roll_gzip: {
          type: 'boolean',
          description: 'Compress rotated files to name.<n>.log.gz in the background. Default false.',
        },
      },
    },
  },
  defaults: FILE_DEFAULTS,
  settings: fileSettings,
  create: (settings) => new FileWriter(settings),
};

registerWriter(fileWriter);
