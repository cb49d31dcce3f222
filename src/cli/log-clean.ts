import { unlinkSync } from 'node:fs';
import type { Config } from '../config/types.js';
import { parseAge } from '../core/duration.js';
import type { KnownFile } from './log-files.js';
import { UsageError } from './store-read.js';
import { deleteStore, heldError, storeHolders } from './store-holder.js';

/** What `kflog logs clean` deletes, from its flags, and the deleting. */

export interface CleanFlags {
  olderThan?: string;
  forward?: string;
  store?: boolean;
}

export interface CleanChoice {
  /** Rolled files last written longer ago than this (ms); the files being written are never among them. */
  olderThanMs?: number;
  /** Only this forward's files: with olderThanMs its old rolls, else all of them (active file and link too). */
  forward?: string;
  /** The stores with their -wal and -shm. */
  store: boolean;
}

/** The flags as a choice; a flag the config cannot answer, or none at all, is a UsageError naming it. */
export function cleanChoice(flags: CleanFlags, config: Config): CleanChoice {
  let olderThanMs: number | undefined;
  if (flags.olderThan !== undefined) {
    olderThanMs = parseAge(flags.olderThan);
    if (olderThanMs === undefined) throw new UsageError(`--older-than "${flags.olderThan}": expected an age such as 7d, 12h or 30m`);
  }
  if (flags.forward !== undefined && !config.forwards.some((f) => f.id === flags.forward)) {
    const ids = config.forwards.map((f) => f.id).join(', ');
    throw new UsageError(`--forward "${flags.forward}": ${config.source} has no such forward (its forwards: ${ids})`);
  }
  const store = flags.store === true;
  if (store && !config.logs.some((l) => l.writer.output === 'store')) {
    throw new UsageError(`--store: ${config.source} has no log with "writer": { "output": "store" }`);
  }
  if (olderThanMs === undefined && flags.forward === undefined && !store) {
    throw new UsageError('say what to delete: --older-than AGE (rolled files), --forward ID (a forward\'s files), --store (the store)');
  }
  return { olderThanMs, forward: flags.forward, store };
}

/** The files the choice selects, among those the config writes. */
export function chosenFiles(files: readonly KnownFile[], choice: CleanChoice, now: number): KnownFile[] {
  return files.filter((f) => {
    if (f.role === 'store') return choice.store;
    if (choice.forward !== undefined && f.forward !== choice.forward) return false;
    if (choice.olderThanMs !== undefined) return f.role === 'rolled' && f.mtimeMs < now - choice.olderThanMs;
    return choice.forward !== undefined;
  });
}

/** Throws heldError when a store among the files is open in another process: nothing is deleted then. */
export function refuseHeldStores(files: readonly KnownFile[]): void {
  for (const store of new Set(files.map((f) => f.store).filter((s) => s !== undefined))) {
    const holders = storeHolders(store);
    if (holders !== undefined) throw heldError(store, holders);
  }
}

/** What deleteFiles could not delete: the paths, and one line for each failure. */
export interface Undeleted {
  paths: Set<string>;
  reasons: string[];
}

/**
 * Deletes the files, the stores first, each under its lock (store-holder.ts): a store that another process opened
 * since it was listed throws, before any other file is deleted. A file already gone is no failure.
 */
export function deleteFiles(files: readonly KnownFile[]): Undeleted {
  const undeleted: Undeleted = { paths: new Set(), reasons: [] };
  const stores = new Map<string, string[]>();
  for (const f of files) if (f.store !== undefined) stores.set(f.store, [...(stores.get(f.store) ?? []), f.path]);
  for (const [store, paths] of stores) {
    const reason = removed(() => deleteStore(store, paths), store);
    if (reason === undefined) continue;
    for (const p of paths) undeleted.paths.add(p);
    undeleted.reasons.push(reason);
  }
  for (const f of files) {
    if (f.store !== undefined) continue;
    const reason = removed(() => unlinkSync(f.path), f.path);
    if (reason === undefined) continue;
    undeleted.paths.add(f.path);
    undeleted.reasons.push(reason);
  }
  return undeleted;
}

const REASON: Record<string, string> = { EACCES: 'permission denied', EPERM: 'not permitted', EBUSY: 'busy', EROFS: 'read-only file system' };

/** Runs a deletion; a file system error becomes its line, ENOENT nothing (the file is gone, as asked). */
function removed(remove: () => void, path: string): string | undefined {
  try {
    remove();
    return undefined;
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ENOENT') return undefined;
    if (typeof e.code === 'string' && e.syscall !== undefined) return `cannot delete ${path}: ${REASON[e.code] ?? e.code}`;
    throw err;
  }
}
