import { lstatSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { UndoList } from '../helpers/cleanup.js';
import { undoAfterEach } from '../helpers/cleanup.js';
import { tempDir } from '../helpers/files.js';
import { startKflog } from '../helpers/kflog-process.js';
import { kflogCli, send, stopAndFlush } from '../store/helpers.js';
import { listedFiles, namesIn, sizeIs, startRolledKflog, type RolledKflog } from './logs-kflog.js';

describe('kflog logs list, on the files a kflog with rotation wrote', () => {
  const undos: Array<() => unknown> = [];
  const undo: UndoList = { push: (...u) => void undos.push(...u) };
  let k: RolledKflog;

  beforeAll(async () => {
    k = await startRolledKflog(undo);
    await k.stop();
  });
  afterAll(async () => {
    while (undos.length > 0) await undos.pop()!();
  });

  const list = (...args: string[]) => kflogCli(['logs', 'list', '-c', k.config, ...args]);

  it('lists every file the logs wrote under its forward, and the store, each with its size and modification time', () => {
    const r = list();
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const listed = listedFiles(r.stdout);
    const written = [...namesIn(k.logs).map((n) => join(k.logs, n)), k.store];
    expect(listed.map((f) => f.path).sort()).toEqual(written.sort());
    const rolls = namesIn(k.logs).filter((n) => n.startsWith(`demo_${k.demoPort}.`));
    // Several rolls, compressed, beside the active one and the link: what a rotating log leaves.
    expect(rolls.filter((n) => n.endsWith('.log.gz')).length).toBeGreaterThanOrEqual(3);
    for (const f of listed) {
      const st = lstatSync(f.path);
      expect(sizeIs(f.size, st.size), `${f.path}: ${f.size} for ${st.size} bytes`).toBe(true);
      expect(f.time).toBe(new Date(Math.floor(st.mtimeMs / 1000) * 1000).toISOString().replace('.000Z', 'Z'));
      const name = f.path.slice(k.logs.length + 1);
      expect(f.group).toBe(f.path === k.store ? 'store' : name.startsWith('demo_') ? 'forward demo' : 'forward other');
    }
    expect(listed.map((f) => f.group)).toEqual([...listed.map((f) => f.group)].sort());
  });

  it('marks the file being written as active and the configured name as the link to it', () => {
    const listed = listedFiles(list().stdout);
    const link = listed.find((f) => f.path === join(k.logs, `demo_${k.demoPort}.log`))!;
    const target = readlinkSync(link.path);
    expect(link.note).toBe(`-> ${target}`);
    expect(listed.filter((f) => f.note === '(active)').map((f) => f.path).sort()).toEqual([join(k.logs, target), join(k.logs, 'other.log')]);
  });

  it('ends with the number of files and their total size', () => {
    const r = list();
    const listed = listedFiles(r.stdout);
    const total = /^total {2}(\d+) files, (.+)$/m.exec(r.stdout);
    expect(total, r.stdout).not.toBeNull();
    expect(Number(total![1])).toBe(listed.length);
    expect(sizeIs(total![2]!, listed.reduce((sum, f) => sum + lstatSync(f.path).size, 0))).toBe(true);
  });

  it('reads ./kflog.json when no --config is given, as kflog run does', () => {
    const r = kflogCli(['logs', 'list'], k.dir);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(list().stdout);
  });

  it('leaves out every other file in those directories: other names, other forwards, rolls of a log that does not roll', () => {
    const before = list().stdout;
    const strays = ['notes.txt', `demo_${k.demoPort}.log.bak`, 'demo_x.1.log', 'gone_8080.1.log', 'other.1.log', `demo_${k.demoPort}.1.log.gz.tmp`];
    for (const n of strays) writeFileSync(join(k.logs, n), 'not kflog\'s\n');
    writeFileSync(k.store + '-journal', 'not kflog\'s\n');
    expect(list().stdout).toBe(before);
  });
});

describe('kflog logs list, with kflog running', () => {
  const undo = undoAfterEach();

  it('says which process has the store open', async () => {
    const k = await startRolledKflog(undo, 1, 0);
    const r = kflogCli(['logs', 'list', '-c', k.config]);
    expect(r.code).toBe(0);
    expect(r.stdout, r.stdout).toMatch(new RegExp(`^store\\n(?:  .*\\n)*  \\(open in pid ${k.proc.child.pid}: .*cli\\.js run --.*\\)\\n`, 'm'));
  });

  it("finds a forward's files when the port it got on port 0 names their directory, and kflog's own messages' file", async () => {
    const { dir, cleanup } = tempDir('logs-dirs');
    undo.push(cleanup);
    const filename = join(dir, '{forward.id}-{listen.port}', 'all.log');
    const { proc, addresses } = await startKflog(
      {
        forwards: [{ id: 'demo', listen: '127.0.0.1:0', target: { builtin: 'echo' } }],
        // No include: the log takes kflog's own messages too, into the file named as for a forward "kflog" on port 0.
        logging: { logs: { all: { writer: { output: 'file', filename }, encoder: { format: 'json' } } } },
      },
      dir,
    );
    undo.push(() => proc.stop());
    await send(`http://${addresses.demo!}/api/users`);
    await stopAndFlush({ proc, base: '', dir, db: '' });
    const port = addresses.demo!.split(':')[1]!;
    const listed = listedFiles(kflogCli(['logs', 'list', '-c', join(dir, 'kflog.json')]).stdout);
    expect(listed.map((f) => [f.group, f.path])).toEqual([
      ['forward demo', join(dir, `demo-${port}`, 'all.log')],
      ["kflog's own messages", join(dir, 'kflog-0', 'all.log')],
    ]);
  });

  it('finds the rolls of a log whose file name has no extension, named as pino-roll names them (name.N.log)', async () => {
    const { dir, cleanup } = tempDir('logs-noext');
    undo.push(cleanup);
    const { proc, addresses } = await startKflog(
      {
        forwards: [{ id: 'demo', listen: '127.0.0.1:0', target: { builtin: 'echo' }, log: { format: 'json', writer: { output: 'file', filename: join(dir, 'access'), roll_size_mb: 1 / 1024 } } }],
      },
      dir,
    );
    undo.push(() => proc.stop());
    for (let i = 0; i < 10; i++) await send(`http://${addresses.demo!}/api/users?i=${i}`);
    await stopAndFlush({ proc, base: '', dir, db: '' });
    const written = namesIn(dir).filter((n) => n.startsWith('access'));
    expect(written.filter((n) => /^access\.\d+\.log$/.test(n)).length).toBeGreaterThan(1);
    const listed = listedFiles(kflogCli(['logs', 'list', '-c', join(dir, 'kflog.json')]).stdout);
    expect(listed.map((f) => f.path).sort()).toEqual(written.map((n) => join(dir, n)).sort());
    expect(listed.find((f) => f.path === join(dir, 'access'))?.note).toMatch(/^-> access\.\d+\.log$/);
  });

  it('a config that cannot be read is one line naming it, exit 1', () => {
    const { dir, cleanup } = tempDir('logs-bad');
    undo.push(cleanup);
    const path = join(dir, 'none.json');
    const r = kflogCli(['logs', 'list', '-c', path]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`kflog: ${path}: 1 problem; /: cannot read ${path}: no such file\n`);
  });
});
