import { readdirSync, readFileSync, readlinkSync, unlinkSync } from 'node:fs';
import { basename } from 'node:path';
import Database from 'better-sqlite3';
import { StoreError } from '../writers/store-db.js';

/**
 * Whether a store may be deleted: never while another process (a running kflog, or a `kflog ls` reading it) has
 * it open, since a kflog would go on writing to a file nobody can see any more.
 */

/** Another process that has the store open: its pid and command line when the system says (Linux's /proc). */
export interface StoreHolder {
  pid?: number;
  command?: string;
}

const COMMAND_CHARS = 160;

/**
 * A process's command line as a person reads it: the program by its name (a Node binary may live deep in a cache
 * directory, and its path would push the arguments, which tell one kflog from another, out of the line), the
 * arguments as given, cut with an ellipsis when very long.
 */
export function readableCommand(argv: readonly string[]): string {
  const [program, ...args] = argv;
  if (program === undefined) return '';
  const line = [basename(program), ...args].join(' ');
  return line.length > COMMAND_CHARS ? line.slice(0, COMMAND_CHARS - 1) + '…' : line;
}

/** Processes (other than this one) with the store or its -wal/-shm open, from /proc; [] where there is no /proc. */
export function processesWithOpen(path: string): StoreHolder[] {
  const names = new Set([path, path + '-wal', path + '-shm']);
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((p) => /^\d+$/.test(p) && Number(p) !== process.pid);
  } catch {
    return [];
  }
  const out: StoreHolder[] = [];
  for (const pid of pids) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue; // another user's process, or gone
    }
    const holds = fds.some((fd) => {
      try {
        return names.has(readlinkSync(`/proc/${pid}/fd/${fd}`));
      } catch {
        return false;
      }
    });
    if (!holds) continue;
    let command: string | undefined;
    try {
      command = readableCommand(readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean));
    } catch {
      command = undefined;
    }
    out.push({ pid: Number(pid), ...(command ? { command } : {}) });
  }
  return out;
}

/**
 * Opens the store and leaves WAL mode, which SQLite allows only to the file's one connection (in WAL mode every
 * connection keeps a shared lock on the file for as long as it is open): the test that works without /proc too.
 * The store is left in rollback-journal mode, which kflog undoes: it sets WAL whenever it opens a store.
 * 'held': another connection has it open; 'unlocked': there is no SQLite file to lock (gone, or not a database).
 */
function openAlone(path: string): Database.Database | 'held' | 'unlocked' {
  let db: Database.Database;
  try {
    db = new Database(path, { fileMustExist: true });
  } catch {
    return 'unlocked';
  }
  try {
    db.pragma('busy_timeout = 0');
    db.pragma('journal_mode = DELETE');
    return db;
  } catch (err) {
    db.close();
    return (err as { code?: string }).code === 'SQLITE_BUSY' ? 'held' : 'unlocked';
  }
}

/** The processes that have the store open ([] when one does but the system does not say which), or undefined. */
export function storeHolders(path: string): StoreHolder[] | undefined {
  const holders = processesWithOpen(path);
  if (holders.length > 0) return holders;
  const db = openAlone(path);
  if (db === 'held') return [];
  if (db !== 'unlocked') db.close();
  return undefined;
}

/** The one line saying who holds the store, for the StoreError that refuses to delete it. */
export function heldError(path: string, holders: readonly StoreHolder[]): StoreError {
  const who = holders.length > 0 ? holders.map((h) => `pid ${h.pid}${h.command ? ` (${h.command})` : ''}`).join(', ') : 'another process';
  return new StoreError(`not deleting the store ${path}: ${who} has it open; stop it first`);
}

/**
 * Deletes the store's files (`files`: the store, its -wal and -shm as they exist), or throws heldError when another
 * process has it open. They are removed while this process holds the store's exclusive lock, so a kflog starting
 * meanwhile waits for it rather than open the file as it is deleted.
 */
export function deleteStore(path: string, files: readonly string[]): void {
  const holders = processesWithOpen(path);
  if (holders.length > 0) throw heldError(path, holders);
  const db = openAlone(path);
  if (db === 'held') throw heldError(path, processesWithOpen(path));
  try {
    if (db !== 'unlocked') db.exec('BEGIN EXCLUSIVE');
    for (const f of files) unlinkMissingOk(f);
  } finally {
    if (db !== 'unlocked') db.close();
  }
}

function unlinkMissingOk(path: string): void {
  try {
    unlinkSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}
