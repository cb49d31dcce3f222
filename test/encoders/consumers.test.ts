import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/files.js';
import { program, runCorpus, type CorpusRun } from './corpus.js';

/**
 * The real consumers judge kflog's output over the corpus (≥ 200 varied exchanges sent through the real proxy over
 * raw sockets): GoAccess must parse every CLF line, lnav must recognise every HAProxy line, jq every JSON line.
 */

const HAS = { goaccess: program('goaccess'), lnav: program('lnav'), jq: program('jq') };

/** GoAccess 1.7's CADDY parser takes a method only from its own list, in any case (the CLF parsers accept any). */
const GOACCESS_CADDY_METHODS = new Set(['OPTIONS', 'GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'TRACE', 'CONNECT', 'PATCH', 'PROPFIND', 'PROPPATCH',
  'MKCOL', 'COPY', 'MOVE', 'LOCK', 'UNLOCK', 'VERSION-CONTROL', 'REPORT', 'CHECKOUT', 'CHECKIN', 'UNCHECKOUT', 'MKWORKSPACE', 'UPDATE', 'LABEL',
  'MERGE', 'BASELINE-CONTROL', 'MKACTIVITY', 'ORDERPATCH']);

let run: CorpusRun;
const scratch = tempDir('consumers').dir;

beforeAll(async () => {
  run = await runCorpus({
    combined: { format: 'clf', variant: 'combined' },
    common: { format: 'clf', variant: 'common' },
    caddy: { format: 'json', include: ['http.log.access'] },
    all: { format: 'json' },
    haproxy: { format: 'haproxy', syslog_header: true },
    haproxy_captures: {
      format: 'haproxy',
      syslog_header: true,
      capture_request_headers: [{ name: 'Host', len: 64 }, { name: 'User-Agent', len: 128 }, { name: 'Referer', len: 64 }],
      capture_response_headers: [{ name: 'Content-Type', len: 64 }],
    },
    kftray: { format: 'kftray' },
    rest: { format: 'kftray', style: 'rest-client' },
  });
}, 120_000);

function lines(name: string): string[] {
  const text = run.file(name);
  expect(text.endsWith('\n')).toBe(true);
  return text.slice(0, -1).split('\n');
}

interface GoaccessGeneral {
  total_requests: number;
  valid_requests: number;
  failed_requests: number;
}

function goaccess(file: string, format: string): GoaccessGeneral {
  const out = join(scratch, `${format}-${Math.random().toString(36).slice(2)}.json`);
  const r = spawnSync('goaccess', [file, `--log-format=${format}`, '--no-global-config', '-o', out], { encoding: 'utf8', timeout: 60_000 });
  // goaccess exits 0 even when lines fail (and aborts when the first lines all fail): read its report.
  let report: { general: GoaccessGeneral };
  try {
    report = JSON.parse(readFileSync(out, 'utf8')) as { general: GoaccessGeneral };
  } catch {
    throw new Error(`goaccess wrote no report (exit ${r.status}): ${r.stderr.slice(-2000)}`);
  }
  return report.general;
}

function lnav(file: string, sql: string): string[][] {
  const home = mkdtempSync(join(scratch, 'lnav-home-'));
  const r = spawnSync('lnav', ['-n', '-c', ';' + sql, file], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, HOME: home } });
  expect(r.status, r.stderr).toBe(0);
  return r.stdout.trim().split('\n').slice(1).map((l) => l.trim().split(/\s+/));
}

describe('the corpus', () => {
  it('has at least 200 exchanges, each logged exactly once in every line format', () => {
    expect(run.sent.length).toBeGreaterThanOrEqual(200);
    for (const name of ['combined', 'common', 'caddy', 'haproxy', 'haproxy_captures']) expect(lines(name), name).toHaveLength(run.sent.length);
  });
});

describe.skipIf(!HAS.goaccess)('GoAccess', () => {
  it('parses every combined line (--log-format=COMBINED)', () => {
    const g = goaccess(join(run.dir, 'combined'), 'COMBINED');
    expect(g.failed_requests).toBe(0);
    expect(g.total_requests).toBe(run.sent.length);
  });

  it('parses every common line (--log-format=COMMON)', () => {
    const g = goaccess(join(run.dir, 'common'), 'COMMON');
    expect(g.failed_requests).toBe(0);
    expect(g.total_requests).toBe(run.sent.length);
  });

  it('parses every json line of a request it can represent (--log-format=CADDY), and fails only the others', () => {
    // GoAccess needs a request ("A request is required"): a malformed one has it only when its request line
    // parsed. Its CADDY parser also rejects methods outside its list ("Token 'PURGE' doesn't match specifier
    // '%m'"). Those are dropped here, and the full file must fail exactly them.
    const all = lines('caddy');
    const representable = all.filter((l) => {
      const e = JSON.parse(l) as { request: { method: string; uri: string } };
      return e.request.uri !== '' && GOACCESS_CADDY_METHODS.has(e.request.method.toUpperCase());
    });
    expect(representable.length).toBeGreaterThanOrEqual(100);
    const file = join(scratch, 'caddy-representable.log');
    writeFileSync(file, representable.join('\n') + '\n');
    const g = goaccess(file, 'CADDY');
    expect(g.failed_requests).toBe(0);
    expect(g.total_requests).toBe(representable.length);
    expect(goaccess(join(run.dir, 'caddy'), 'CADDY').failed_requests).toBe(all.length - representable.length);
  });
});

describe.skipIf(!HAS.lnav)('lnav', () => {
  for (const name of ['haproxy', 'haproxy_captures']) {
    it(`recognises every ${name} line as haproxy_log and parses each one`, () => {
      const file = join(run.dir, name);
      expect(lnav(file, 'SELECT log_format, count(*) FROM all_logs GROUP BY log_format')).toEqual([['haproxy_log', String(run.sent.length)]]);
      expect(lnav(file, 'SELECT count(status_code) FROM haproxy_log')).toEqual([[String(run.sent.length)]]);
    });
  }
});

describe.skipIf(!HAS.jq)('jq', () => {
  it('parses every json line, request, access and process entries alike', () => {
    const text = run.file('all');
    const r = spawnSync('jq', ['-c', '[.msg, .request.method]'], { input: text, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const out = r.stdout.trim().split('\n');
    expect(out).toHaveLength(text.trim().split('\n').length);
    expect(out.filter((l) => l.startsWith('["handled request"'))).toHaveLength(run.sent.length);
  });

  it('gives back the method, URI, User-Agent and Referer each client sent, or its raw line', () => {
    const r = spawnSync('jq', ['-c', '[.request.method, .request.uri, .request.headers["User-Agent"], .request.headers.Referer, .request.raw_line]'], {
      input: run.file('caddy'),
      encoding: 'utf8',
    });
    expect(r.status, r.stderr).toBe(0);
    const rows = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as [string, string, string[] | null, string[] | null, string | null]);
    expect(rows).toHaveLength(run.sent.length);
    let parsed = 0;
    rows.forEach(([method, uri, ua, referer, raw], i) => {
      const s = run.sent[i]!;
      if (raw !== null) {
        expect(raw, `exchange ${i}`).toBe(s.line);
        // A well-formed HTTP/1.x request line also gives its method and URI, as nginx's $request would.
        const line = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+) ([\x21-\x7e\x80-\xff]+) HTTP\/1\.[01]$/.exec(s.line);
        expect([method, uri], `exchange ${i}`).toEqual(line ? [line[1], line[2]] : ['', '']);
        return;
      }
      parsed++;
      expect([method, uri], `exchange ${i}`).toEqual([s.method, s.uri]);
      expect(ua?.[0], `exchange ${i}`).toBe(s.ua);
      expect(referer?.[0], `exchange ${i}`).toBe(s.referer);
    });
    expect(parsed).toBeGreaterThanOrEqual(100);
  });
});

describe('kftray over the corpus', () => {
  it('writes one request block and one response block per exchange, however hostile the traffic', () => {
    const text = run.file('kftray');
    expect(text.match(/^-{40}$/gm)).toHaveLength(2 * run.sent.length);
    expect(text.match(/^Trace ID: /gm)).toHaveLength(2 * run.sent.length);
    expect(text.match(/^Request at: /gm)).toHaveLength(run.sent.length);
    expect(text.match(/^Response at: /gm)).toHaveLength(run.sent.length);
  });

  it('writes the rest-client style with one request and one response block per exchange', () => {
    const text = run.file('rest');
    expect(text.startsWith('# kflog HTTP log in REST Client format')).toBe(true);
    // The file header (the credential variables) is the first region.
    expect(text.match(/^###$/gm)).toHaveLength(2 * run.sent.length + 1);
    expect(text.match(/^# Trace ID: /gm)).toHaveLength(2 * run.sent.length);
  });
});
