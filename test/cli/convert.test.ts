import { spawnSync } from 'node:child_process';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Har } from 'har-format';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { UndoList } from '../helpers/cleanup.js';
import { readLines, tempDir } from '../helpers/files.js';
import { harProblems, timingProblems } from '../helpers/har.js';
import { exchange } from '../helpers/http.js';
import { CLI, startKflog } from '../helpers/kflog-process.js';
import { referenceLines } from '../encoders/fixtures.js';
import { kflogCli, stopAndFlush } from '../store/helpers.js';
import { sendHarTraffic } from './har-traffic.js';

/**
 * kflog convert against the files one real kflog wrote for the same traffic: its JSON log converted to clf and
 * haproxy must be the clf and haproxy files it wrote live, line for line.
 */
describe('kflog convert re-encodes a JSON log that a running kflog wrote', () => {
  const undos: Array<() => unknown> = [];
  const undo: UndoList = { push: (...u) => void undos.push(...u) };
  let dir: string;
  const file = (name: string): string => join(dir, name);

  beforeAll(async () => {
    const t = tempDir('convert');
    undo.push(t.cleanup);
    dir = t.dir;
    const log = (filename: string, encoder: Record<string, unknown>) => ({ writer: { output: 'file', filename: file(filename) }, encoder });
    const { proc, addresses } = await startKflog(
      {
        forwards: [{ id: 'demo', listen: '127.0.0.1:0', target: { builtin: 'echo' }, capture: { request_body: true, response_body: true } }],
        logging: {
          logs: {
            default: { exclude: ['http.log'] },
            json: log('access.json', { format: 'json' }),
            // Milliseconds as the double kflog holds them: HAProxy's accept date shows them, and a time rounded to
            // the microsecond (the default) can end up in the next millisecond.
            json_ms: log('access-ms.json', { format: 'json', time_format: 'unix_milli_float' }),
            clf: log('access.clf', { format: 'clf' }),
            haproxy: log('access.haproxy', { format: 'haproxy' }),
            store: { writer: { output: 'store', path: file('exchanges.db') } },
          },
        },
      },
      dir,
    );
    undo.push(() => proc.stop());
    const address = addresses.demo!;
    await sendHarTraffic(`http://${address}`);
    // UTF-8 in a header (clf's combined variant shows the User-Agent byte for byte), in a target node refuses (its
    // first line is kept as raw_line), and a request with a broken header.
    await exchange(address, 'GET /api/users HTTP/1.1\r\nHost: demo\r\nUser-Agent: Ren\xc3\xa9e/1.0\r\nConnection: close\r\n\r\n');
    await exchange(address, 'GET /caf\xc3\xa9?q=\xe2\x82\xac HTTP/1.1\r\nHost: demo\r\nConnection: close\r\n\r\n');
    await exchange(address, 'GET /bad HTTP/1.1\r\nHost: demo\r\nNo colon here\r\n\r\n', { halfClose: true });
    await stopAndFlush({ proc, base: `http://${address}`, dir, db: file('exchanges.db') });
  }, 60_000);
  afterAll(async () => {
    while (undos.length > 0) await undos.pop()!();
  });

  const convert = (...args: string[]) => kflogCli(['convert', ...args]);

  it('to clf writes the lines kflog wrote live in clf', () => {
    const live = readFileSync(file('access.clf'), 'utf8');
    expect(live.split('\n')).toHaveLength(9);
    expect(live).toContain('"Ren\\xC3\\xA9e/1.0"');
    const r = convert(file('access.json'), '--to', 'clf');
    expect([r.code, r.stderr]).toEqual([0, '']);
    expect(r.stdout).toBe(live);
  });

  it('to haproxy writes the lines kflog wrote live in haproxy', () => {
    const live = readFileSync(file('access.haproxy'), 'utf8');
    expect(live).toContain('CR--');
    const r = convert(file('access-ms.json'), '--to', 'haproxy');
    expect([r.code, r.stderr]).toEqual([0, '']);
    expect(r.stdout).toBe(live);
  });

  it('to har writes valid HAR, the same exchanges kflog export writes from the store', async () => {
    const r = convert(file('access.json'), '--to', 'har');
    expect([r.code, r.stderr]).toEqual([0, '']);
    const har = JSON.parse(r.stdout) as Har;
    expect(await harProblems(har)).toEqual([]);
    expect(timingProblems(har)).toEqual([]);
    const exported = JSON.parse(kflogCli(['export', '--har', '--store', file('exchanges.db')]).stdout) as Har;
    // The start is the same instant to the microsecond; its ISO text, cut at the millisecond, may differ by one.
    const withoutStart = (h: Har) => h.log.entries.map(({ startedDateTime: _s, ...rest }) => rest);
    expect(har.log.entries).toHaveLength(8);
    expect(withoutStart(har)).toEqual(withoutStart(exported));
    har.log.entries.forEach((e, i) => expect(Math.abs(Date.parse(e.startedDateTime) - Date.parse(exported.log.entries[i]!.startedDateTime))).toBeLessThanOrEqual(1));
  });

  it('to kftray writes a request and a response block for each exchange', () => {
    const r = convert(file('access.json'), '--to', 'kftray');
    expect(r.code).toBe(0);
    const traces = readLines(file('access.json')).map((l) => /"logger":"http\.log\.access\.[^"]*".*"trace_id":"([^"]+)"/.exec(l)?.[1]).filter(Boolean);
    expect(traces).toHaveLength(8);
    for (const t of traces) expect(r.stdout.split(`Trace ID: ${t}\n`)).toHaveLength(3);
  });

  it('to logfmt writes one line for each request and access entry', () => {
    const r = convert(file('access.json'), '--to', 'logfmt');
    const http = readLines(file('access.json')).filter((l) => l.includes('"logger":"http.log.'));
    expect(r.stdout.trimEnd().split('\n').filter((l) => l.includes(' logger=http.log.'))).toHaveLength(http.length);
  });

  it('counts the lines that are not kflog entries, names them on stderr, and converts the rest', () => {
    const lines = readLines(file('access.json'));
    const mixed = [lines[0], 'not json at all', ...lines.slice(1, 3), referenceLines('caddy.log')[0], '', ...lines.slice(3), '{"level":"info"}'];
    writeFileSync(file('mixed.json'), mixed.join('\n') + '\n');
    const r = convert(file('mixed.json'), '--to', 'clf');
    expect(r.code).toBe(0);
    expect(r.stderr).toBe(`kflog: 3 lines of ${file('mixed.json')} were not kflog entries: lines 2, 5, ${mixed.length}\n`);
    expect(r.stdout).toBe(readFileSync(file('access.clf'), 'utf8'));
  });

  it('stops quietly with exit 0 when the program reading its output closes the pipe (| head -1)', () => {
    const access = readLines(file('access.json')).find((l) => l.includes('"logger":"http.log.access.'))!;
    // About 400 KB of clf, far past what the pipe holds once head has gone.
    writeFileSync(file('long.json'), (access + '\n').repeat(4000));
    const r = spawnSync('bash', ['-c', `"${process.execPath}" "${CLI}" convert "${file('long.json')}" --to clf | head -1; echo "exit \${PIPESTATUS[0]}" >&2`], { encoding: 'utf8', timeout: 15_000 });
    expect(r.stdout.split('\n')).toHaveLength(2);
    expect(r.stderr).toBe('exit 0\n');
  });

  it('-o writes the file, 0600, and nothing to stdout', () => {
    const r = convert(file('access.json'), '--to', 'clf', '-o', file('out.clf'));
    expect([r.code, r.stdout, r.stderr]).toEqual([0, '', '']);
    expect(readFileSync(file('out.clf'), 'utf8')).toBe(readFileSync(file('access.clf'), 'utf8'));
    expect(statSync(file('out.clf')).mode & 0o777).toBe(0o600);
  });
});

describe('kflog convert on bad input', () => {
  it('a missing file is one line naming it, exit 1', () => {
    const r = kflogCli(['convert', '/nonexistent/kflog.json', '--to', 'clf']);
    expect([r.code, r.stdout, r.stderr]).toEqual([1, '', 'kflog: cannot read /nonexistent/kflog.json: no such file or directory\n']);
  });

  it('an unknown --to names the flag and the formats, exit 2', () => {
    const r = kflogCli(['convert', '/nonexistent/kflog.json', '--to', 'xml']);
    expect([r.code, r.stderr]).toEqual([2, 'kflog: --to "xml": expected one of clf, haproxy, kftray, logfmt, har\n']);
  });

  it('no --to names the flag and the formats, exit 2', () => {
    const r = kflogCli(['convert', '/nonexistent/kflog.json']);
    expect([r.code, r.stderr]).toEqual([2, 'kflog: --to: expected one of clf, haproxy, kftray, logfmt, har\n']);
  });
});
