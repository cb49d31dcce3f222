import { existsSync, utimesSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { undoAfterEach } from '../helpers/cleanup.js';
import { program } from '../encoders/corpus.js';
import { tempDir } from '../helpers/files.js';
import { writeConfig } from '../helpers/kflog-process.js';
import { kflogCli } from '../store/helpers.js';
import { kflogOnTerminal, listedFiles, namesIn, startRolledKflog, type RolledKflog } from './logs-kflog.js';

const DAY_S = 86_400;

/** The compressed rolls of forward "demo", oldest first. */
function compressedRolls(k: RolledKflog): string[] {
  const roll = new RegExp(`^demo_${k.demoPort}\\.(\\d+)\\.log\\.gz$`);
  return namesIn(k.logs)
    .filter((n) => roll.test(n))
    .sort((a, b) => Number(roll.exec(a)![1]) - Number(roll.exec(b)![1]));
}

/** Sets a file's modification time `days` ago. */
function age(path: string, days: number): void {
  const t = Date.now() / 1000 - days * DAY_S;
  utimesSync(path, t, t);
}

describe('kflog logs clean', () => {
  const undo = undoAfterEach();

  async function stoppedKflog(): Promise<RolledKflog> {
    const k = await startRolledKflog(undo);
    await k.stop();
    return k;
  }

  const clean = (k: RolledKflog, ...args: string[]) => kflogCli(['logs', 'clean', '-c', k.config, ...args]);

  it('--older-than deletes exactly the rolls last written before then, and never the active file however old', async () => {
    const k = await stoppedKflog();
    const rolls = compressedRolls(k);
    expect(rolls.length).toBeGreaterThanOrEqual(3);
    const [oldest, older, ...recent] = rolls as [string, string, ...string[]];
    age(join(k.logs, oldest), 10);
    age(join(k.logs, older), 3);
    // The active roll and the plain log of "other" are as old, but are what the logs write: kept.
    const active = namesIn(k.logs).find((n) => new RegExp(`^demo_${k.demoPort}\\.\\d+\\.log$`).test(n))!;
    age(join(k.logs, active), 10);
    age(join(k.logs, 'other.log'), 10);
    const before = namesIn(k.logs);

    const r = clean(k, '--older-than', '2d', '--yes');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(listedFiles(r.stdout).map((f) => f.path)).toEqual([join(k.logs, oldest), join(k.logs, older)]);
    expect(r.stdout).toMatch(/^deleted 2 files \(\d+(\.\d)? (B|KiB)\)$/m);
    expect(namesIn(k.logs)).toEqual(before.filter((n) => n !== oldest && n !== older));
    expect(recent.every((n) => existsSync(join(k.logs, n)))).toBe(true);
  });

  it('--forward deletes all of that forward\'s files, and nothing of another forward or the store', async () => {
    const k = await stoppedKflog();
    const r = clean(k, '--forward', 'demo', '--yes');
    expect(r.code).toBe(0);
    expect(listedFiles(r.stdout).every((f) => f.group === 'forward demo')).toBe(true);
    expect(namesIn(k.logs)).toEqual(['other.log']);
    expect(existsSync(k.store)).toBe(true);
  });

  it('deletes no file the config does not write, even in the same directory and named alike', async () => {
    const k = await stoppedKflog();
    const strays = ['notes.txt', `demo_${k.demoPort}.log.bak`, 'demo_x.1.log', 'gone_8080.1.log', 'other.1.log'];
    for (const n of strays) {
      writeFileSync(join(k.logs, n), 'not kflog\'s\n');
      age(join(k.logs, n), 30);
    }
    expect(clean(k, '--forward', 'demo', '--yes').code).toBe(0);
    expect(clean(k, '--older-than', '0s', '--yes').code).toBe(0);
    expect(namesIn(k.logs)).toEqual(['other.log', ...strays].sort());
  });

  it('refuses to delete without --yes when there is no terminal to ask on: exit 1, nothing deleted', async () => {
    const k = await stoppedKflog();
    const before = namesIn(k.logs);
    const r = clean(k, '--forward', 'demo');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^kflog: not deleting \d+ files \(.+\) without a confirmation, and there is no terminal to ask on: pass --yes\n$/);
    expect(namesIn(k.logs)).toEqual(before);
  });

  it('--store refuses while a kflog has the store open, naming its pid: exit 1, nothing deleted', async () => {
    const k = await startRolledKflog(undo, 1, 0);
    const r = clean(k, '--store', '--forward', 'demo', '--yes');
    expect(r.code).toBe(1);
    // The command line is shortened when long (a Node binary deep in a cache directory): its start says enough.
    expect(r.stderr).toMatch(new RegExp(`^kflog: not deleting the store ${k.store}: pid ${k.proc.child.pid} \\(${basename(process.execPath).replace(/[.]/g, '\\.')} .*cli\\.js run --.*\\) has it open; stop it first\n$`));
    expect(existsSync(k.store)).toBe(true);
    expect(namesIn(k.logs).length).toBeGreaterThan(1);
  });

  it('--store deletes the store with its -wal and -shm once no process has it open', async () => {
    const k = await startRolledKflog(undo, 5, 0);
    // Killed, kflog leaves its WAL beside the store (a clean stop checkpoints it away).
    await k.proc.stop('SIGKILL');
    expect(existsSync(k.store + '-wal') && existsSync(k.store + '-shm')).toBe(true);
    const r = clean(k, '--store', '--yes');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(listedFiles(r.stdout).map((f) => f.path)).toEqual([k.store, k.store + '-shm', k.store + '-wal']);
    expect(namesIn(k.dir)).toEqual(['http_logs', 'kflog.json']);
  });

  it('says there is nothing to delete when nothing matches, exit 0', async () => {
    const k = await stoppedKflog();
    const r = clean(k, '--older-than', '30d');
    expect([r.code, r.stdout]).toEqual([0, 'nothing to delete\n']);
  });
});

describe('kflog logs clean on bad flags', () => {
  const undo = undoAfterEach();

  function config(): string {
    const { dir, cleanup } = tempDir('logs-flags');
    undo.push(cleanup);
    return writeConfig(dir, { forwards: [{ id: 'demo', listen: '127.0.0.1:0', target: { builtin: 'echo' } }] });
  }

  it('a bad --older-than names the flag and what it takes, exit 2', () => {
    const r = kflogCli(['logs', 'clean', '-c', config(), '--older-than', 'banana']);
    expect([r.code, r.stderr]).toEqual([2, 'kflog: --older-than "banana": expected an age such as 7d, 12h or 30m\n']);
  });

  it('a --forward the config does not have names it and the forwards there are, exit 2', () => {
    const path = config();
    const r = kflogCli(['logs', 'clean', '-c', path, '--forward', 'nope']);
    expect([r.code, r.stderr]).toEqual([2, `kflog: --forward "nope": ${path} has no such forward (its forwards: demo)\n`]);
  });

  it('--store with a config that has no store log says so, exit 2', () => {
    const path = config();
    const r = kflogCli(['logs', 'clean', '-c', path, '--store']);
    expect([r.code, r.stderr]).toEqual([2, `kflog: --store: ${path} has no log with "writer": { "output": "store" }\n`]);
  });

  it('no flag saying what to delete is refused, naming the flags, exit 2', () => {
    const r = kflogCli(['logs', 'clean', '-c', config()]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe("kflog: say what to delete: --older-than AGE (rolled files), --forward ID (a forward's files), --store (the store)\n");
  });
});

// A pseudo-terminal from util-linux's `script` (bsdutils, in every Debian): clean asks there, as a person would see.
const hasScript = program('script');

describe.skipIf(!hasScript)('kflog logs clean on a terminal', () => {
  const undo = undoAfterEach();

  it('asks "Delete N files (size)? [y/N]" and deletes them on y', async () => {
    const k = await startRolledKflog(undo);
    await k.stop();
    const r = await kflogOnTerminal(['logs', 'clean', '-c', k.config, '--forward', 'demo'], 'y');
    expect(r.code, r.stdout).toBe(0);
    const n = listedFiles(r.stdout.replace(/\r/g, '')).length;
    expect(r.stdout).toMatch(new RegExp(`Delete ${n} files \\(\\d+(\\.\\d)? (B|KiB)\\)\\? \\[y/N\\] y\\r?\\n`));
    expect(r.stdout).toContain(`deleted ${n} files`);
    expect(namesIn(k.logs)).toEqual(['other.log']);
  });

  it('keeps every file when the answer is only Enter', async () => {
    const k = await startRolledKflog(undo);
    await k.stop();
    const before = namesIn(k.logs);
    const r = await kflogOnTerminal(['logs', 'clean', '-c', k.config, '--forward', 'demo'], '');
    expect(r.code, r.stdout).toBe(0);
    expect(r.stdout).toContain('[y/N] ');
    expect(r.stdout).toContain('kflog: nothing deleted');
    expect(namesIn(k.logs)).toEqual(before);
  });
});
