import { closeSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseAge } from '../core/duration.js';
import type { AccessEntry, RequestEntry } from '../core/entry.js';
import { optionOr, OptionError } from '../core/module-options.js';
import { OutputUnusableError } from './deadline.js';
import { expandHome, makeDirectory } from './paths.js';
import { registerWriter } from './registry.js';
import { openStoreForWriting, StoreError, type StoreDb } from './store-db.js';
import { enforceRetention, type RetentionLimits } from './store-retention.js';
import { rowWriter } from './store-rows.js';
import { readFrames } from '../core/store-frame.js';
import type { EntryBatch, Writer, WriterModule, WriterOptions } from './writer.js';

const MB = 1024 * 1024;

const STORE_DEFAULTS: Readonly<{ path: string; max_size_mb: number; max_age: string }> = {
  // Where `kflog ls` and `kflog show` look when no config names a store: beside kflog's other files.
  path: '~/.kflog/exchanges.db',
  // Bodies make exchanges large; half a GiB keeps days of a developer's traffic without filling a laptop's disk.
  max_size_mb: 512,
  // A week of history answers "what did it send yesterday" without keeping captured data for good.
  max_age: '7d',
};

/** A store is created 0600 in a 0700 directory, as log files are: it holds request data and maybe credentials. */
const FILE_MODE = 0o600;
const DIR_MODE = 0o700;
/** Retention runs at least this often while writing (and at open and close): its size check costs a few pragmas. */
const RETENTION_EVERY_MS = 1000;
/**
 * …and sooner once this share of max_size_mb has been written since it last ran: at tens of MB a second, a second
 * of writes would otherwise overshoot a small store by more than its size.
 */
const RETENTION_EVERY_SHARE = 0.05;

export interface StoreSettings {
  path: string;
  limits: RetentionLimits;
}

function storeSettings(options: WriterOptions): StoreSettings {
  const path = expandHome(optionOr(options, 'path', STORE_DEFAULTS.path));
  const maxSizeMb = optionOr(options, 'max_size_mb', STORE_DEFAULTS.max_size_mb);
  if (!(maxSizeMb > 0)) throw new OptionError(['max_size_mb'], `max_size_mb must be above 0 (found ${maxSizeMb})`);
  const age = optionOr(options, 'max_age', STORE_DEFAULTS.max_age);
  const maxAgeMs = parseAge(age);
  if (maxAgeMs === undefined || maxAgeMs <= 0) throw new OptionError(['max_age'], `max_age "${age}" is not a duration such as "7d", "12h" or "30m"`);
  return { path, limits: { maxAgeMs, maxBytes: Math.round(maxSizeMb * MB) } };
}

type ExchangeEntry = RequestEntry | AccessEntry;

/**
 * The exchange store: a SQLite file with one row per exchange, for `kflog ls` and `kflog show`. It takes the
 * store encoder's frames (one entry each) and writes each batch the log hands it in one transaction. SQLite
 * is synchronous: this runs where the log's writes run, the log thread by default, never the proxy's thread
 * unless `logging.thread` is false.
 */
export class StoreWriter implements Writer {
  readonly key: string;
  readonly description: string;
  readonly isTTY = false;
  private db: StoreDb | undefined;
  private writeRows: ((entries: ReadonlyArray<ExchangeEntry>) => void) | undefined;
  private lastRetention = 0;
  /** Bytes of lines stored since retention last ran. */
  private storedSinceRetention = 0;

  constructor(private readonly settings: StoreSettings) {
    this.key = 'store:' + settings.path;
    this.description = 'store ' + settings.path;
  }

  async open(): Promise<void> {
    await this.current();
  }

  async writeEntries(batch: EntryBatch): Promise<void> {
    const entries: ExchangeEntry[] = [];
    let bytes = 0;
    for (const e of batch.entries) {
      const text = typeof e === 'string' ? e : e.toString('utf8');
      bytes += text.length;
      for (const entry of readFrames(text)) entries.push(entry);
    }
    this.store(entries, bytes);
    await Promise.resolve();
  }

  async write(batch: string | Buffer): Promise<void> {
    const text = typeof batch === 'string' ? batch : batch.toString('utf8');
    this.store(readFrames(text), text.length);
    await Promise.resolve();
  }

  async close(): Promise<void> {
    const db = this.db;
    this.db = undefined;
    this.writeRows = undefined;
    if (!db) return;
    try {
      enforceRetention(db, this.settings.limits, Date.now());
    } finally {
      db.close();
    }
  }

  /** Frames come from the store encoder (config load refuses any other encoder with this output). */
  private store(entries: readonly ExchangeEntry[], bytes: number): void {
    this.storedSinceRetention += bytes;
    if (entries.length === 0) return;
    const { db, writeRows } = this.openSync();
    writeRows(entries);
    const now = Date.now();
    if (now - this.lastRetention >= RETENTION_EVERY_MS || this.storedSinceRetention >= this.settings.limits.maxBytes * RETENTION_EVERY_SHARE) {
      this.lastRetention = now;
      this.storedSinceRetention = 0;
      enforceRetention(db, this.settings.limits, now);
    }
  }

  private async current(): Promise<void> {
    if (this.db) return;
    await makeDirectory(dirname(this.settings.path), DIR_MODE);
    this.openSync();
  }

  private openSync(): { db: StoreDb; writeRows: (entries: ReadonlyArray<ExchangeEntry>) => void } {
    if (this.db && this.writeRows) return { db: this.db, writeRows: this.writeRows };
    // Created with the owner's mode before SQLite opens it; SQLite gives its -wal and -shm files the same mode.
    closeSync(openSync(this.settings.path, 'a', FILE_MODE));
    let db: StoreDb;
    try {
      db = openStoreForWriting(this.settings.path);
    } catch (err) {
      // A file that is not a store, or a newer kflog's: retrying cannot help, so kflog refuses to start with it.
      throw err instanceof StoreError ? new OutputUnusableError(err.message) : err;
    }
    this.db = db;
    // The WAL is on disk beside the store until a checkpoint: kept to a twentieth of max_size_mb (SQLite's own
    // default lets it reach 4 MB, all of a small store's bound), so the two files together stay under it.
    const walBytes = this.settings.limits.maxBytes * RETENTION_EVERY_SHARE;
    const pageSize = db.pragma('page_size', { simple: true }) as number;
    db.pragma(`wal_autocheckpoint = ${Math.max(16, Math.min(1000, Math.floor(walBytes / pageSize)))}`);
    db.pragma(`journal_size_limit = ${Math.min(1 << 20, Math.floor(walBytes))}`);
    this.writeRows = rowWriter(db);
    this.lastRetention = Date.now();
    enforceRetention(db, this.settings.limits, this.lastRetention);
    return { db, writeRows: this.writeRows };
  }
}

export const storeWriter: WriterModule<StoreSettings> = {
  name: 'store',
  schema: {
    options: {
      description: 'The exchange store: one SQLite row per exchange (its request and access entries joined by trace ID), read by `kflog ls` and `kflog show`. It takes the encoder format "store" (given when the log names no encoder). Created 0600 in a 0700 directory; WAL, so `kflog ls` reads while kflog writes.',
      properties: {
        path: {
          type: 'string',
          minLength: 1,
          description: 'The SQLite file (`~` expanded). Default "~/.kflog/exchanges.db".',
        },
        max_size_mb: {
          type: 'number',
          exclusiveMinimum: 0,
          description: 'When the pages in use pass this many MiB, the oldest exchanges are deleted and the file shrinks (incremental vacuum). Default 512.',
        },
        max_age: {
          type: 'string',
          format: 'age',
          description: 'Exchanges that started longer ago are deleted: days and/or a Go-style duration ("7d", "12h", "1d12h"). Default "7d".',
        },
      },
    },
  },
  defaults: STORE_DEFAULTS,
  encoder: 'store',
  settings: storeSettings,
  create: (settings) => new StoreWriter(settings),
};

registerWriter(storeWriter);
