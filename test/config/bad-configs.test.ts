import { chmodSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { KflogProcess, tempDir, writeConfig } from '../helpers/kflog-process.js';

const ok = { id: 'a', listen: '127.0.0.1:0', target: { url: 'http://127.0.0.1:9' } };

/** Each bad config, the place its message must name, and a word of the reason. */
const corpus: Array<{ name: string; config: unknown; place: string; reason: RegExp }> = [
  { name: 'forwards of the wrong type', config: { forwards: {} }, place: '/forwards', reason: /must be array/ },
  { name: 'no forwards at all', config: {}, place: '/forwards', reason: /required/ },
  { name: 'an unknown top-level key', config: { forwards: [ok], colour: 'red' }, place: '/colour', reason: /unknown key/ },
  { name: 'an unknown key in a forward', config: { forwards: [{ ...ok, lisen: 'x' }] }, place: '/forwards/0/lisen', reason: /unknown key/ },
  { name: 'an unknown key in a writer', config: { forwards: [ok], logging: { logs: { a: { writer: { output: 'stderr', path: 'x' } } } } }, place: '/logging/logs/a/writer/path', reason: /unknown key/ },
  { name: 'a port given as a string of the wrong type', config: { forwards: [{ ...ok, listen: 8080 }] }, place: '/forwards/0/listen', reason: /must be string/ },
  { name: 'duplicate forward ids', config: { forwards: [ok, { ...ok, listen: '127.0.0.1:0' }] }, place: '/forwards/1/id', reason: /duplicate forward id "a"/ },
  { name: 'duplicate listen addresses', config: { forwards: [{ ...ok, listen: '127.0.0.1:18080' }, { ...ok, id: 'b', listen: '127.0.0.1:18080' }] }, place: '/forwards/1/listen', reason: /already used by \/forwards\/0/ },
  { name: 'a wildcard listen after a specific one on its port', config: { forwards: [{ ...ok, listen: '127.0.0.1:18082' }, { ...ok, id: 'b', listen: '0.0.0.0:18082' }] }, place: '/forwards/1/listen', reason: /already used by \/forwards\/0/ },
  { name: 'a wildcard listen clashing with a specific one', config: { forwards: [{ ...ok, listen: '0.0.0.0:18081' }, { ...ok, id: 'b', listen: '127.0.0.1:18081' }] }, place: '/forwards/1/listen', reason: /already used/ },
  { name: 'a bad duration', config: { forwards: [ok], shutdown_timeout: '10 seconds' }, place: '/shutdown_timeout', reason: /duration/ },
  { name: 'a bad sampling interval', config: { forwards: [ok], logging: { logs: { a: { sampling: { interval: 'soon' } } } } }, place: '/logging/logs/a/sampling/interval', reason: /duration/ },
  { name: 'a missing target', config: { forwards: [{ id: 'a', listen: '127.0.0.1:0' }] }, place: '/forwards/0/target', reason: /required/ },
  { name: 'an empty target', config: { forwards: [{ ...ok, target: {} }] }, place: '/forwards/0/target', reason: /exactly one of "url", "builtin" or "kube"/ },
  { name: 'two targets at once', config: { forwards: [{ ...ok, target: { url: 'http://x', builtin: 'echo' } }] }, place: '/forwards/0/target', reason: /exactly one/ },
  { name: 'a port out of range', config: { forwards: [{ ...ok, listen: '127.0.0.1:70000' }] }, place: '/forwards/0/listen', reason: /out of range/ },
  { name: 'a listen address without a port', config: { forwards: [{ ...ok, listen: 'localhost' }] }, place: '/forwards/0/listen', reason: /host:port/ },
  { name: 'a target url that is not http', config: { forwards: [{ ...ok, target: { url: 'ftp://x' } }] }, place: '/forwards/0/target/url', reason: /http/ },
  { name: 'an unknown encoder format', config: { forwards: [ok], logging: { logs: { a: { encoder: { format: 'xml' } } } } }, place: '/logging/logs/a/encoder/format', reason: /must be one of/ },
  { name: 'an unknown log level', config: { forwards: [ok], logging: { logs: { a: { level: 'loud' } } } }, place: '/logging/logs/a/level', reason: /must be one of/ },
  { name: 'a bad forward id', config: { forwards: [{ ...ok, id: 'Has Space' }] }, place: '/forwards/0/id', reason: /lower-case/ },
  { name: 'an unknown filename placeholder', config: { forwards: [ok], logging: { logs: { a: { writer: { output: 'file', filename: 'x/{forward.name}.log' } } } } }, place: '/logging/logs/a/writer/filename', reason: /unknown placeholder/ },
  { name: 'a file writer without filename', config: { forwards: [ok], logging: { logs: { a: { writer: { output: 'file' } } } } }, place: '/logging/logs/a/writer/filename', reason: /required/ },
  { name: 'a negative body limit', config: { forwards: [{ ...ok, capture: { max_body_bytes: -1 } }] }, place: '/forwards/0/capture/max_body_bytes', reason: /must be >= 0/ },
  { name: 'a kube target naming both a service and a pod', config: { forwards: [{ ...ok, target: { kube: { service: 's', pod: 'p', port: 80 } } }] }, place: '/forwards/0/target/kube', reason: /exactly one of "service", "pod" or "selector"/ },
  { name: 'a filter on a field that does not exist', config: { forwards: [ok], logging: { logs: { f: { encoder: { format: 'filter', wrap: { format: 'json' }, fields: { 'request>nosuch': { filter: 'delete' } } } } } } }, place: '/logging/logs/f/encoder', reason: /unknown field "nosuch"/ },
  { name: 'no listener processes', config: { forwards: [ok], listener_processes: 0 }, place: '/listener_processes', reason: /must be >= 1/ },
  { name: 'log shorthand of the wrong type', config: { forwards: [{ ...ok, log: true }] }, place: '/forwards/0/log', reason: /must be/ },
];

describe('kflog validate on a bad config', () => {
  it('has a corpus of at least 15 bad configs', () => {
    expect(corpus.length).toBeGreaterThanOrEqual(15);
  });

  for (const c of corpus) {
    it(`rejects ${c.name}, naming ${c.place}, with exit 2`, async () => {
      const dir = tempDir();
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
    const dir = tempDir();
    const path = writeConfig(dir, '{\n  "forwards": [\n    { "id": "a", }\n  ]\n}\n');
    const p = new KflogProcess(['validate', '--config', path]);
    expect((await p.exited).code).toBe(2);
    expect(p.stderr).toMatch(/malformed JSON: .*\(line 3, column 18\)/);
  });

  it('reports an unreadable file by its path', async () => {
    const dir = tempDir();
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
    const dir = tempDir();
    const path = writeConfig(dir, { forwards: [{ ...ok, listen: '127.0.0.1:99999', colour: 1 }], extra: true });
    const p = new KflogProcess(['validate', '--config', path]);
    expect((await p.exited).code).toBe(2);
    expect(p.stderr).toContain('/forwards/0/listen:');
    expect(p.stderr).toContain('/forwards/0/colour:');
    expect(p.stderr).toContain('/extra:');
  });
});

describe('kflog run on a bad config', () => {
  it('exits 2 before anything starts: no listener, no log file', async () => {
    const dir = tempDir();
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
    const dir = tempDir();
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
