import { execFile, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir, waitForLines } from '../helpers/files.js';
import { makeTestPki, type TestPki } from '../helpers/pki.js';
import { startProxy, type ForwardSpec, type Harness } from '../proxy/helpers.js';
import { program } from './corpus.js';

/**
 * The line formats for HTTP/2 exchanges, read from the files kflog really wrote for real curl requests:
 * nginx's $request is "<method> <:path> HTTP/2.0" (ngx_http_v2_construct_request_line), HAProxy's %r the absolute
 * form "<method> <:scheme>://<:authority><:path> HTTP/2.0" (since 2.1, h2_prepare_htx_reqline), kftray's Version 2.
 */

const scratch = tempDir('h2-lines');
let pki: TestPki;
const running: Harness[] = [];

beforeAll(() => {
  pki = makeTestPki(scratch.dir);
});

afterAll(async () => {
  for (const h of running.splice(0)) await h.stop();
  scratch.cleanup();
});

/** kflog with one forward and a clf, a haproxy and a kftray log, each a file in its own directory. */
async function proxy(name: string, forward: Partial<ForwardSpec>): Promise<{ h: Harness; file: (log: string) => string }> {
  const dir = join(scratch.dir, name);
  const file = (log: string): string => join(dir, log);
  const logs: Record<string, unknown> = { default: { writer: { output: 'discard' }, encoder: { format: 'json' } } };
  for (const [log, encoder] of Object.entries({
    combined: { format: 'clf', variant: 'combined', time_local: false },
    haproxy: { format: 'haproxy', time_local: false },
    kftray: { format: 'kftray' },
  })) {
    logs[log] = { include: ['http.log'], writer: { output: 'file', filename: file(log) }, encoder };
  }
  const h = await startProxy({ target: { builtin: 'echo' }, ...forward } as ForwardSpec, { logging: { logs } } as Parameters<typeof startProxy>[1]);
  running.push(h);
  return { h, file };
}

/** curl's HTTP version and status, with a deadline. */
function curl(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('curl', ['-s', '-o', '/dev/null', '-w', '%{http_version} %{http_code}', '--max-time', '10', '-A', 'curl-h2-test', ...args],
      { timeout: 15_000 }, (err, stdout) => (err ? reject(err) : resolve(stdout)));
  });
}

const stamp = /\[[^\]]+\]/;

describe('line formats of an HTTP/2 exchange (curl --http2-prior-knowledge through an h2c listener)', () => {
  let run: Awaited<ReturnType<typeof proxy>>;
  beforeAll(async () => {
    run = await proxy('h2c', { protocols: ['h1', 'h2c'] });
    expect(await curl(['--http2-prior-knowledge', `${run.h.url}/api/users?page=2`])).toBe('2 200');
    expect(await curl(['--http2-prior-knowledge', `${run.h.url}/status/404`])).toBe('2 404');
    await run.h.waitAccess(2);
  });

  it('writes the combined line as nginx does for HTTP/2: the :path and HTTP/2.0', async () => {
    const lines = await waitForLines(run.file('combined'), (l) => l.length === 2);
    expect(lines[0]!.replace(stamp, '[T]')).toMatch(/^127\.0\.0\.1 - - \[T\] "GET \/api\/users\?page=2 HTTP\/2\.0" 200 \d+ "-" "curl-h2-test"$/);
    expect(lines[1]).toContain('"GET /status/404 HTTP/2.0" 404 ');
  });

  it('writes the HAProxy request line in the absolute form HAProxy logs for HTTP/2', async () => {
    const lines = await waitForLines(run.file('haproxy'), (l) => l.length === 2);
    expect(lines[0]).toMatch(new RegExp(` 200 \\d+ - - ---- .* "GET http://127\\.0\\.0\\.1:${run.h.port}/api/users\\?page=2 HTTP/2\\.0"$`));
    expect(lines[1]).toMatch(new RegExp(`"GET http://127\\.0\\.0\\.1:${run.h.port}/status/404 HTTP/2\\.0"$`));
  });

  it('writes Version: 2 in the kftray request block', async () => {
    await waitForLines(run.file('kftray'), (l) => l.filter((x) => x.startsWith('Status: ')).length === 2);
    const text = readFileSync(run.file('kftray'), 'utf8');
    expect(text.match(/^Version: 2$/gm)).toHaveLength(2);
    expect(text).toContain('\nPath: /api/users?page=2\n');
  });

  it.skipIf(!program('goaccess'))('GoAccess parses the HTTP/2 combined lines (--log-format=COMBINED)', async () => {
    await waitForLines(run.file('combined'), (l) => l.length === 2);
    const out = join(scratch.dir, 'goaccess-h2.json');
    spawnSync('goaccess', [run.file('combined'), '--log-format=COMBINED', '--no-global-config', '-o', out], { encoding: 'utf8', timeout: 60_000 });
    const report = JSON.parse(readFileSync(out, 'utf8')) as { general: { total_requests: number; failed_requests: number } };
    expect(report.general).toMatchObject({ total_requests: 2, failed_requests: 0 });
  });
});

describe('line formats of an HTTP/2 exchange over TLS (curl --http2 --cacert through a TLS listener)', () => {
  it('writes https:// in the HAProxy request line and the same nginx line as in cleartext', async () => {
    const run = await proxy('tls', { listen_tls: { cert_file: pki.leafCert, key_file: pki.leafKey } });
    const port = run.h.port;
    expect(await curl(['--http2', '--cacert', pki.caCert, `https://127.0.0.1:${port}/api/users`])).toBe('2 200');
    const [haproxy] = await waitForLines(run.file('haproxy'), (l) => l.length === 1);
    expect(haproxy).toMatch(new RegExp(`"GET https://127\\.0\\.0\\.1:${port}/api/users HTTP/2\\.0"$`));
    const [combined] = await waitForLines(run.file('combined'), (l) => l.length === 1);
    expect(combined).toContain('"GET /api/users HTTP/2.0" 200 ');
  });

  it('keeps the origin form for HTTP/1.1 over TLS, as HAProxy does', async () => {
    const run = await proxy('tls1', { listen_tls: { cert_file: pki.leafCert, key_file: pki.leafKey } });
    expect(await curl(['--http1.1', '--cacert', pki.caCert, `https://127.0.0.1:${run.h.port}/api/users`])).toBe('1.1 200');
    const [haproxy] = await waitForLines(run.file('haproxy'), (l) => l.length === 1);
    expect(haproxy).toMatch(/"GET \/api\/users HTTP\/1\.1"$/);
  });
});
