import { lstatSync, readdirSync, readlinkSync, type Stats } from 'node:fs';
import { basename, dirname, join, resolve, sep } from 'node:path';
import type { Config, ForwardConfig, LogConfig } from '../config/types.js';
import { loggerAllowed } from '../emit/match.js';
import { fileWriter } from '../writers/file.js';
import { rollNames } from '../writers/roll-names.js';
import { storeWriter } from '../writers/store.js';

/**
 * The files a config's logs write, as they are on disk now: each file log's file (its {forward.id} and
 * {listen.port} filled in per forward), the rolls of a rolling one, and each store with its -wal and -shm. Only
 * names kflog would write under this config are looked for; nothing else in those directories is ever listed.
 */

/**
 * What a file is to kflog: `active` the file a log writes (or, stopped, appends to when it starts again);
 * `rolled` a finished roll; `link` the configured name of a rolling log, a symlink to the active roll;
 * `store` a store or its -wal/-shm.
 */
export type FileRole = 'active' | 'rolled' | 'link' | 'store';

export interface KnownFile {
  path: string;
  /** The heading it is listed under: "forward demo", "log access" (one file for all forwards), "store". */
  group: string;
  /** The forward whose file it is; undefined for a file of all forwards and for the store. */
  forward?: string;
  role: FileRole;
  /** Bytes (a link's own, the length of the name it holds). */
  size: number;
  mtimeMs: number;
  /** A link's target, as written in it (a name in the same directory). */
  target?: string;
  /** A store file's store (the file itself, or the one a -wal or -shm belongs to). */
  store?: string;
}

/** What {listen.port} stands for when a forward listens on port 0: the port it got is known only to its kflog. */
const ANY_PORT = '\u0001';
const PLACEHOLDER = /\{(forward\.id|listen\.port)\}/g;
const HAS_PLACEHOLDER = /\{(forward\.id|listen\.port)\}/;
/** Process entries (kflog's own messages) go to the file named as if the forward were "kflog" on port 0 (log.ts). */
const PROCESS_FORWARD = { id: 'kflog', port: '0' };

/** One name pattern of the config: an absolute path, ANY_PORT where the port is not known. */
interface Family {
  path: string;
  group: string;
  forward?: string;
  kind: 'plain' | 'rolling' | 'store';
}

function filled(template: string, id: string, port: string): string {
  return template.replace(PLACEHOLDER, (_m, name: string) => (name === 'forward.id' ? id : port));
}

/** Whether a log takes a forward's http.log entries (the forward logs at all, and include/exclude admit them). */
function takesForward(log: LogConfig, f: ForwardConfig): boolean {
  return f.logEnabled && [`http.log.request.${f.id}`, `http.log.access.${f.id}`].some((l) => loggerAllowed(l, log.include, log.exclude));
}

/** Whether a log takes kflog's own messages (the "kflog" logger, and the port-forwards' of kube targets). */
function takesProcessEntries(log: LogConfig, config: Config): boolean {
  return ['kflog', ...config.forwards.map((f) => `kube.portforward.${f.id}`)].some((l) => loggerAllowed(l, log.include, log.exclude));
}

function familiesOf(config: Config): Family[] {
  const out: Family[] = [];
  for (const log of config.logs) {
    if (log.writer.output === 'store') {
      out.push({ path: storeWriter.settings(log.writer).path, group: 'store', kind: 'store' });
      continue;
    }
    if (log.writer.output !== 'file') continue;
    // The writer's own settings: the path (~ expanded, made absolute) and whether it rolls, as kflog run has them.
    const settings = fileWriter.settings(log.writer);
    const kind = settings.roll ? 'rolling' : 'plain';
    const template = settings.path;
    if (!HAS_PLACEHOLDER.test(template)) {
      // The forward `log` shorthand is the log "forward.<id>" (a reserved name): its file is that forward's.
      const forward = log.name.startsWith('forward.') ? log.name.slice('forward.'.length) : undefined;
      out.push({ path: template, group: forward !== undefined ? `forward ${forward}` : `log ${log.name}`, forward, kind });
      continue;
    }
    for (const f of config.forwards) {
      if (!takesForward(log, f)) continue;
      out.push({ path: filled(template, f.id, f.port === 0 ? ANY_PORT : String(f.port)), group: `forward ${f.id}`, forward: f.id, kind });
    }
    if (takesProcessEntries(log, config)) out.push({ path: filled(template, PROCESS_FORWARD.id, PROCESS_FORWARD.port), group: "kflog's own messages", kind });
  }
  // A name with a known port is the better claim on a file that an ANY_PORT name of another forward also matches.
  return out.sort((a, b) => Number(a.path.includes(ANY_PORT)) - Number(b.path.includes(ANY_PORT)));
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** A name with ANY_PORT in it as a pattern: the rest literal, the port any decimal number. */
function pattern(name: string): string {
  return name.split(ANY_PORT).map(escapeRegExp).join('[0-9]+');
}

function lstatOrUndefined(path: string): Stats | undefined {
  try {
    return lstatSync(path);
  } catch {
    return undefined;
  }
}

function linkTarget(path: string): string | undefined {
  try {
    return readlinkSync(path);
  } catch {
    return undefined; // replaced or removed since it was listed
  }
}

function namesIn(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return []; // not there (yet): nothing written
  }
}

/** The directories a path with ANY_PORT in them names: each such component matched against what exists. */
function directories(dir: string): string[] {
  if (!dir.includes(ANY_PORT)) return [dir];
  const parts = dir.split(sep);
  let found = [parts[0] === '' ? sep : parts[0]!];
  for (const part of parts.slice(1)) {
    if (part === '') continue;
    if (!part.includes(ANY_PORT)) {
      found = found.map((d) => join(d, part));
      continue;
    }
    const re = new RegExp(`^${pattern(part)}$`);
    found = found.flatMap((d) => namesIn(d).filter((n) => re.test(n) && lstatOrUndefined(join(d, n))?.isDirectory()).map((n) => join(d, n)));
  }
  return found;
}

function known(path: string, st: Stats, family: Family, role: FileRole, target?: string): KnownFile {
  return { path, group: family.group, forward: family.forward, role, size: st.size, mtimeMs: st.mtimeMs, ...(target !== undefined ? { target } : {}) };
}

/** The files of one family that exist. */
function filesOf(family: Family): KnownFile[] {
  if (family.kind === 'store') {
    return ['', '-wal', '-shm'].flatMap((suffix) => {
      const st = lstatOrUndefined(family.path + suffix);
      return st?.isFile() ? [{ ...known(family.path + suffix, st, family, 'store'), store: family.path }] : [];
    });
  }
  const out: KnownFile[] = [];
  const configured = new RegExp(`^${pattern(basename(family.path))}$`);
  const { stem, ext } = rollNames(family.path);
  const roll = new RegExp(`^(${pattern(basename(stem))})\\.([0-9]+)${escapeRegExp(ext)}(\\.gz)?$`);
  for (const dir of directories(dirname(family.path))) {
    const rolls: Array<{ path: string; st: Stats; stem: string; n: number; gz: boolean }> = [];
    const active = new Set<string>();
    for (const name of namesIn(dir)) {
      const path = join(dir, name);
      if (configured.test(name)) {
        const st = lstatOrUndefined(path);
        // Rolling, the configured name is kflog's symlink (a regular file there is the user's: RolledFiles leaves
        // it alone); plain, it is the file itself.
        const target = family.kind === 'rolling' && st?.isSymbolicLink() ? linkTarget(path) : undefined;
        if (st && target !== undefined) {
          active.add(resolve(dir, target));
          out.push(known(path, st, family, 'link', target));
        } else if (family.kind === 'plain' && st?.isFile()) {
          out.push(known(path, st, family, 'active'));
        }
        continue;
      }
      const m = family.kind === 'rolling' ? roll.exec(name) : null;
      const st = m ? lstatOrUndefined(path) : undefined;
      if (m && st?.isFile()) rolls.push({ path, st, stem: m[1]!, n: Number(m[2]), gz: m[3] !== undefined });
    }
    // The highest roll, when not yet compressed, is the one kflog appends to when it starts (roll-number.ts).
    const highest = new Map<string, { n: number; gz: boolean; path: string }>();
    for (const r of rolls) {
      const h = highest.get(r.stem);
      if (!h || r.n > h.n || (r.n === h.n && !r.gz)) highest.set(r.stem, r);
    }
    for (const h of highest.values()) if (!h.gz) active.add(h.path);
    for (const r of rolls) out.push(known(r.path, r.st, family, active.has(r.path) ? 'active' : 'rolled'));
  }
  return out;
}

/** Every file the config's logs write that exists now, each once. */
export function knownFiles(config: Config): KnownFile[] {
  const seen = new Set<string>();
  const out: KnownFile[] = [];
  for (const family of familiesOf(config)) {
    for (const f of filesOf(family)) {
      if (seen.has(f.path)) continue;
      seen.add(f.path);
      out.push(f);
    }
  }
  return out;
}
