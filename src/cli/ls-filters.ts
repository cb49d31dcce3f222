import type { Command } from 'commander';
import { parseAge, parseDuration } from '../core/duration.js';
import type { StoreDb } from '../writers/store-db.js';
import { UsageError, type ExchangeRow } from './store-read.js';

/** `kflog ls`'s flags as written on the command line. */
export interface LsFlags {
  forward?: string;
  method?: string;
  status?: string;
  path?: string;
  since?: string;
  until?: string;
  slowerThan?: string;
  grep?: string;
  limit?: string;
}

/** A WHERE clause and its parameters, built only from checked values (never text pasted into SQL). */
export interface LsQuery {
  where: string[];
  params: Array<string | number>;
  limit: number;
}

/** A word as FTS5's unicode61 tokenizer makes them: letters, digits and private-use characters. */
const WORD = /[\p{L}\p{N}\p{Co}]+/gu;

const DEFAULT_LIMIT = 50;

/** The filter flags, as `kflog ls` and `kflog export` both take them; `noLimit` says what no --limit gives there. */
export function withFilterOptions(command: Command, noLimit = String(DEFAULT_LIMIT)): Command {
  return command
    .option('--forward <id>', 'only this forward')
    .option('--method <method>', 'only this method')
    .option('--status <status>', 'a status (404) or a class (5xx)')
    .option('--path <glob>', 'paths matching this glob (* ? [...])')
    .option('--since <when>', 'started at most this long ago (10m, 7d) or since this time (ISO 8601)')
    .option('--until <when>', 'started at least this long ago, or before this time')
    .option('--slower-than <duration>', 'took longer than this (500ms, 2s)')
    .option('--grep <text>', 'path, headers or body text contain this (full-text search)')
    .option('--limit <n>', `at most this many, the newest (default: ${noLimit})`);
}

/** "10m", "7d" ago, or an ISO 8601 time: epoch ms. */
function pointInTime(flag: string, text: string, now: number): number {
  const ago = parseAge(text);
  if (ago !== undefined) return now - ago;
  const at = /^\d{4}-\d{2}-\d{2}/.test(text) ? Date.parse(text) : NaN;
  if (Number.isNaN(at)) {
    throw new UsageError(`${flag} "${text}": expected a duration ago such as 10m, 2h or 7d, or a time such as 2026-12-07T10:00:00Z`);
  }
  return at;
}

/** The flags as a query; a value that makes no sense throws a UsageError naming the flag and what it takes. */
export function lsQuery(flags: LsFlags, now: number): LsQuery {
  const where: string[] = [];
  const params: Array<string | number> = [];
  if (flags.forward !== undefined) {
    where.push('forward = ?');
    params.push(flags.forward);
  }
  if (flags.method !== undefined) {
    if (!/^[A-Za-z-]+$/.test(flags.method)) throw new UsageError(`--method "${flags.method}": expected an HTTP method such as GET`);
    where.push('method = ?');
    params.push(flags.method.toUpperCase());
  }
  if (flags.status !== undefined) {
    const s = flags.status;
    const cls = /^([1-5])xx$/i.exec(s);
    if (cls) {
      where.push('status BETWEEN ? AND ?');
      params.push(Number(cls[1]) * 100, Number(cls[1]) * 100 + 99);
    } else if (/^[1-5]\d\d$/.test(s)) {
      where.push('status = ?');
      params.push(Number(s));
    } else {
      throw new UsageError(`--status "${s}": expected a status such as 404 or a class 1xx to 5xx`);
    }
  }
  if (flags.path !== undefined) {
    // SQLite's GLOB: * ? and [...], case-sensitive, as a shell matches names.
    where.push('path GLOB ?');
    params.push(flags.path);
  }
  if (flags.since !== undefined) {
    where.push('ts >= ?');
    params.push(pointInTime('--since', flags.since, now));
  }
  if (flags.until !== undefined) {
    where.push('ts <= ?');
    params.push(pointInTime('--until', flags.until, now));
  }
  if (flags.slowerThan !== undefined) {
    const ms = parseDuration(flags.slowerThan);
    if (ms === undefined) throw new UsageError(`--slower-than "${flags.slowerThan}": expected a duration such as 500ms or 2s`);
    where.push('duration_ms > ?');
    params.push(ms);
  }
  if (flags.grep !== undefined) {
    const words = flags.grep.match(WORD) ?? [];
    if (words.length === 0) throw new UsageError(`--grep "${flags.grep}": expected a word (letters or digits) to search for`);
    // Every word, each a quoted FTS5 term (never read as query syntax), in any order and place: the index keeps no
    // positions (store-db.ts), which makes writing it a third faster.
    where.push('id IN (SELECT rowid FROM exchanges_fts WHERE exchanges_fts MATCH ?)');
    params.push(words.map((w) => '"' + w + '"').join(' '));
  }
  let limit = DEFAULT_LIMIT;
  if (flags.limit !== undefined) {
    if (!/^[1-9]\d*$/.test(flags.limit)) throw new UsageError(`--limit "${flags.limit}": expected a whole number above 0`);
    limit = Number(flags.limit);
  }
  return { where, params, limit };
}

/** The exchanges a query selects, newest first: what `kflog ls` prints and `GET /api/exchanges` answers. */
export function listExchanges(db: StoreDb, query: LsQuery): ExchangeRow[] {
  const where = query.where.length > 0 ? 'WHERE ' + query.where.join(' AND ') : '';
  return db.prepare(`SELECT * FROM exchanges ${where} ORDER BY ts DESC, id DESC LIMIT ?`).all(...query.params, query.limit) as ExchangeRow[];
}
