import { chmodSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/files.js';
import { KflogProcess, writeConfig } from '../helpers/kflog-process.js';

import { badConfigs as corpus, ok } from './bad-config-table.js';

describe('kflog validate on a bad config', () => {
  it('has a corpus of at least 15 bad configs', () => {
    expect(corpus.length).toBeGreaterThanOrEqual(15);
  });

  for (const c of corpus) {
    it(`rejects ${c.name}, naming ${c.place}, with exit 2`, async () => {
      const { dir } = tempDir();
      const path = writeConfig(dir, c.config);
      const p = new KflogProcess(['validate', '--config', path]);
      const { code } = await p.exited;
      expect(code).toBe(2);
      const line = p.stderr.split('\n').find((l) => l.includes(`: ${c.place}: `));
      expect(line, p.stderr).toBeDefined();
      expect(line).toMatch(c.reason);
      expect(p.stderr).not.toMatch(/\n\s+at /); // no stack trace
    });
  }

  it('reports malformed JSON with its line and column', async () => {
    const { dir } = tempDir();
    const path = writeConfig(dir, '{\n  "forwards": [\n    { "id": "a", }\n  ]\n}\n');
    const p = new KflogProcess(['validate', '--config', path]);
    expect((await p.exited).code).toBe(2);
    expect(p.stderr).toMatch(/malformed JSON: .*\(line 3, column 18\)/);
  });

  it('reports an unreadable file by its path', async () => {
    const { dir } = tempDir();
    let path = writeConfig(dir, { forwards: [ok] });
    let why = 'permission denied';
    chmodSync(path, 0o000);
    if (process.getuid?.() === 0) {
      // root reads any file: a directory stands in for an unreadable one
      path = join(dir, 'dir.json');
      mkdirSync(path);
      why = 'is a directory';
    }
    const p = new KflogProcess(['validate', '--config', path]);
    expect((await p.exited).code).toBe(2);
    expect(p.stderr).toContain(`cannot read ${path}: ${why}`);
  });

  it('reports a missing file by its path', async () => {
    const p = new KflogProcess(['validate', '--config', '/nonexistent/kflog.json']);
    expect((await p.exited).code).toBe(2);
    expect(p.stderr).toContain('cannot read /nonexistent/kflog.json: no such file');
  });

  it('prints every problem, not only the first', async () => {
    const { dir } = tempDir();
    const path = writeConfig(dir, { forwards: [{ ...ok, listen: '127.0.0.1:99999', colour: 1 }], extra: true });
    const p = new KflogProcess(['validate', '--config', path]);
    expect((await p.exited).code).toBe(2);
    expect(p.stderr).toContain('/forwards/0/listen:');
    expect(p.stderr).toContain('/forwards/0/colour:');
    expect(p.stderr).toContain('/extra:');
  });
});

describe('kflog validate, precisely', () => {
  it('reports a wrong value of a known key once, without a spurious unknown key for it', async () => {
    const { dir } = tempDir();
    const path = writeConfig(dir, {
      forwards: [{ ...ok, log: { format: 'har' } }],
      logging: { logs: { x: { writer: { output: 'file', filename: 5 } } } },
    });
    const p = new KflogProcess(['validate', '--config', path]);
    expect((await p.exited).code).toBe(2);
    const lines = p.stderr.trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/\/forwards\/0\/log\/format: must be one of "json", "console"/);
    expect(lines[1]).toMatch(/\/logging\/logs\/x\/writer\/filename: must be string \(found number 5\)/);
    expect(p.stderr).not.toContain('unknown key');
  });

  it('checks ./kflog.json without --config, as run uses it', async () => {
    const { dir } = tempDir();
    writeConfig(dir, { forwards: [{ ...ok, listen: '300.1.1.1:0' }] });
    const p = new KflogProcess(['validate'], { cwd: dir });
    expect((await p.exited).code).toBe(2);
    expect(p.stderr).toMatch(/^kflog\.json: \/forwards\/0\/listen: host "300\.1\.1\.1" is not an IP address/);
  });

  it('checks the embedded default without --config or ./kflog.json, as run uses it', async () => {
    const p = new KflogProcess(['validate'], { cwd: tempDir().dir });
    expect((await p.exited).code).toBe(0);
    expect(p.stdout).toContain('embedded default: valid: 1 forward(s) (demo)');
  });
});

describe('kflog run on a bad config', () => {
  it('exits 2 before anything starts: no listener, no log file', async () => {
    const { dir } = tempDir();
    const logFile = join(dir, 'logs', 'access.log');
    const path = writeConfig(dir, {
      forwards: [{ ...ok, listen: '127.0.0.1:0', tiemouts: {} }],
      logging: { logs: { a: { writer: { output: 'file', filename: logFile } } } },
    });
    const p = new KflogProcess(['run', '--config', path]);
    expect((await p.exited).code).toBe(2);
    expect(p.stderr).toContain('/forwards/0/tiemouts: unknown key');
    expect(p.stderr).not.toContain('listening');
    expect(existsSync(logFile)).toBe(false);
  });
});

describe('kflog validate on a good config', () => {
  it('prints a one-line summary and exits 0', async () => {
    const { dir } = tempDir();
    const path = writeConfig(dir, {
      $schema: './config.schema.json',
      forwards: [ok, { id: 'demo', listen: '127.0.0.1:0', target: { builtin: 'echo' }, log: { format: 'json' } }],
      logging: { logs: { access: { include: ['http.log.access'], writer: { output: 'stdout' }, encoder: { format: 'json' } } } },
    });
    const p = new KflogProcess(['validate', '--config', path]);
    expect((await p.exited).code).toBe(0);
    expect(p.stdout.trim().split('\n')).toHaveLength(1);
    expect(p.stdout).toContain('valid: 2 forward(s) (a, demo), 3 log(s) (default, access, forward.demo)');
  });
});
