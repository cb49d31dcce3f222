import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { request } from 'undici';
import { describe, expect, it } from 'vitest';
import { undoAfterEach } from '../helpers/cleanup.js';
import { readLines, tempDir, waitForLines } from '../helpers/files.js';
import { KflogProcess, startKflog, writeConfig } from '../helpers/kflog-process.js';
import { startUpstream } from '../helpers/upstream.js';

const CADDY_ACCESS_KEYS = ['level', 'ts', 'logger', 'msg', 'request', 'bytes_read', 'user_id', 'duration', 'size', 'status', 'resp_headers'];

/** Async: the upstream lives in this process, so a blocking curl would deadlock it. */
async function curl(args: string[]): Promise<string> {
  const { stdout } = await promisify(execFile)('curl', ['-s', '-S', '--max-time', '20', ...args], { encoding: 'utf8' });
  return stdout;
}

const cleanups = undoAfterEach();

async function kflogWithJsonLog(target: unknown, logExtra: Record<string, unknown> = {}) {
  const { dir } = tempDir();
  const file = join(dir, 'all.log');
  const { proc, addresses } = await startKflog(
    {
      forwards: [{ id: 'api', listen: '127.0.0.1:0', target }],
      logging: { logs: { all: { include: ['http.log'], writer: { output: 'file', filename: file }, encoder: { format: 'json' }, ...logExtra } } },
    },
    dir,
  );
  cleanups.push(() => proc.stop());
  return { proc, base: `http://${addresses.api}`, file, dir };
}

describe('kflog run in front of a real upstream', () => {
  it('writes exactly one JSON access line per exchange, each parsed by jq, with Caddy\'s keys in order', async () => {
    const up = await startUpstream((req, res) => {
      res.writeHead(req.url === '/missing' ? 404 : 200, { 'content-type': 'application/json' });
      res.end('{"ok":true}');
    });
    cleanups.push(up.close);
    const { base, file } = await kflogWithJsonLog({ url: up.url });

    const paths = ['/a', '/b?x=1', '/missing', '/c%20d'];
    for (const p of paths) {
      const r = await request(base + p);
      await r.body.text();
    }
    await curl([base + '/via-curl']);
    await curl(['-X', 'POST', '-d', 'hello', base + '/post']);
    const n = paths.length + 2;

    const lines = await waitForLines(file, (l) => l.filter((x) => x.includes('"http.log.access.api"')).length >= n);
    // jq is the judge: it must parse every line, and agree on the count of access entries.
    const jqCount = execFileSync('jq', ['-s', '[.[] | select(.logger == "http.log.access.api")] | length', file], { encoding: 'utf8' });
    expect(Number(jqCount)).toBe(n);
    const access = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((e) => e.logger === 'http.log.access.api');
    expect(access).toHaveLength(n);
    for (const e of access) {
      expect(Object.keys(e).slice(0, CADDY_ACCESS_KEYS.length)).toEqual(CADDY_ACCESS_KEYS);
      expect(e.msg).toBe('handled request');
      expect(typeof e.ts).toBe('number');
      const req = e.request as Record<string, unknown>;
      expect(Object.keys(req).slice(0, 7)).toEqual(['remote_ip', 'remote_port', 'proto', 'method', 'host', 'uri', 'headers']);
      expect(typeof req.remote_port).toBe('string');
    }
    expect(access.map((e) => (e.request as { uri: string }).uri)).toEqual([...paths, '/via-curl', '/post']);
    expect(access.map((e) => e.status)).toEqual([200, 200, 404, 200, 200, 200]);
    const post = access[5]!;
    expect(post.bytes_read).toBe(5);
    expect(post.size).toBe(11);
    expect(post.level).toBe('info');
  });

  it('links each request entry to its access entry by one UUID v7 trace ID', async () => {
    const up = await startUpstream((_req, res) => res.end('ok'));
    cleanups.push(up.close);
    const { base, file } = await kflogWithJsonLog({ url: up.url });
    for (let i = 0; i < 5; i++) await (await request(`${base}/t/${i}`)).body.text();
    const lines = await waitForLines(file, (l) => l.length >= 10);
    const entries = lines.map((l) => JSON.parse(l) as { logger: string; trace_id: string; msg: string; request: { uri: string } });
    const requests = entries.filter((e) => e.logger === 'http.log.request.api');
    const accesses = entries.filter((e) => e.logger === 'http.log.access.api');
    expect(requests).toHaveLength(5);
    expect(accesses).toHaveLength(5);
    for (const a of accesses) {
      expect(a.trace_id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      const matching = requests.filter((r) => r.trace_id === a.trace_id);
      expect(matching).toHaveLength(1);
      expect(matching[0]!.request.uri).toBe(a.request.uri);
      expect(matching[0]!.msg).toBe('received request');
    }
    expect(new Set(accesses.map((a) => a.trace_id)).size).toBe(5);
  });

  it('logs Authorization, Cookie and Set-Cookie as ["REDACTED"] and never the secrets', async () => {
    const up = await startUpstream((_req, res) => {
      res.setHeader('Set-Cookie', 'session=upstream-secret-cookie');
      res.end('ok');
    });
    cleanups.push(up.close);
    const { base, file } = await kflogWithJsonLog({ url: up.url });
    await curl(['-H', 'Authorization: Bearer top-secret-token', '-H', 'Cookie: sid=client-secret-cookie', base + '/private']);
    const lines = await waitForLines(file, (l) => l.some((x) => x.includes('http.log.access.api')));
    const text = lines.join('\n');
    expect(text).not.toContain('top-secret-token');
    expect(text).not.toContain('client-secret-cookie');
    expect(text).not.toContain('upstream-secret-cookie');
    const access = lines.map((l) => JSON.parse(l)).find((e) => e.logger === 'http.log.access.api');
    expect(access.request.headers.Authorization).toEqual(['REDACTED']);
    expect(access.request.headers.Cookie).toEqual(['REDACTED']);
    expect(access.resp_headers['Set-Cookie']).toEqual(['REDACTED']);
  });

  it('forwards the credentials upstream untouched while redacting them in the log', async () => {
    let seen: string | undefined;
    const up = await startUpstream((req, res) => {
      seen = req.headers.authorization;
      res.end('ok');
    });
    cleanups.push(up.close);
    const { base } = await kflogWithJsonLog({ url: up.url });
    await curl(['-H', 'Authorization: Bearer abc', base + '/']);
    expect(seen).toBe('Bearer abc');
  });

  it('writes credentials in the clear only for a log that sets log_credentials', async () => {
    const up = await startUpstream((_req, res) => res.end('ok'));
    cleanups.push(up.close);
    const { base, file } = await kflogWithJsonLog({ url: up.url }, { log_credentials: true });
    await curl(['-H', 'Authorization: Bearer visible-token', base + '/']);
    const lines = await waitForLines(file, (l) => l.some((x) => x.includes('http.log.access.api')));
    const access = lines.map((l) => JSON.parse(l)).find((e) => e.logger === 'http.log.access.api');
    expect(access.request.headers.Authorization).toEqual(['Bearer visible-token']);
  });

  it('sets X-Forwarded-For/-Proto/-Host and strips hop-by-hop headers on the way up', async () => {
    let headers: Record<string, unknown> = {};
    const up = await startUpstream((req, res) => {
      headers = req.headers;
      res.end('ok');
    });
    cleanups.push(up.close);
    const { base } = await kflogWithJsonLog({ url: up.url });
    await curl(['-H', 'Connection: keep-alive, X-Secret-Hop', '-H', 'X-Secret-Hop: 1', '-H', 'Keep-Alive: timeout=5', base + '/']);
    expect(headers['x-forwarded-for']).toBe('127.0.0.1');
    expect(headers['x-forwarded-proto']).toBe('http');
    expect(headers['x-forwarded-host']).toBe(new URL(base).host);
    expect(headers['x-secret-hop']).toBeUndefined();
    expect(headers['keep-alive']).toBeUndefined();
  });

  it('prints one human line per exchange on stderr with the default log', async () => {
    const up = await startUpstream((_req, res) => res.end('ok'));
    cleanups.push(up.close);
    const { proc, base } = await kflogWithJsonLog({ url: up.url });
    await curl([base + '/hello']);
    await curl([base + '/again']);
    await proc.waitFor(() => /GET \/again → 200/.test(proc.stderr), 'console line');
    expect(proc.stderr.match(/ api GET \/hello → 200 2B /g)).toHaveLength(1);
  });

  it('keeps stdout for logs only, so `kflog run | jq` works', async () => {
    const up = await startUpstream((_req, res) => res.end('ok'));
    cleanups.push(up.close);
    const { proc, addresses } = await startKflog({
      forwards: [{ id: 'api', listen: '127.0.0.1:0', target: { url: up.url } }],
      logging: { logs: { out: { include: ['http.log.access'], writer: { output: 'stdout' }, encoder: { format: 'json' } } } },
    });
    cleanups.push(() => proc.stop());
    await curl([`http://${addresses.api}/x`]);
    await proc.waitFor(() => proc.stdout.includes('\n'), 'a line on stdout');
    await proc.stop();
    for (const line of proc.stdout.trim().split('\n')) expect(JSON.parse(line).logger).toBe('http.log.access.api');
  });
});

describe('kflog run start-up and shutdown', () => {
  it('uses ./kflog.json when no --config is given', async () => {
    const { dir } = tempDir();
    writeConfig(dir, { forwards: [{ id: 'fromcwd', listen: '127.0.0.1:0', target: { builtin: 'echo' } }] });
    const p = new KflogProcess(['run'], { cwd: dir });
    cleanups.push(() => p.stop());
    const { fromcwd } = await p.listening(['fromcwd']);
    const r = await request(`http://${fromcwd}/api/users`);
    expect(await r.body.text()).toBe('{"users":[{"id":1,"name":"John"}]}');
    expect(p.stderr).toContain('config from kflog.json');
  });

  it('explains every command in --help', async () => {
    for (const args of [['--help'], ['run', '--help'], ['validate', '--help']]) {
      const p = new KflogProcess(args);
      expect((await p.exited).code).toBe(0);
      expect(p.stdout).toMatch(/Usage: kflog/);
    }
  });

  it('names the address and exits non-zero without a stack trace when the listen address is in use', async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    cleanups.push(() => new Promise((r) => blocker.close(r)));
    const port = (blocker.address() as AddressInfo).port;
    const { dir } = tempDir();
    const path = writeConfig(dir, { forwards: [{ id: 'busy', listen: `127.0.0.1:${port}`, target: { builtin: 'echo' } }] });
    const p = new KflogProcess(['run', '--config', path]);
    const { code } = await p.exited;
    expect(code).toBe(1);
    expect(p.stderr).toContain(`cannot listen on 127.0.0.1:${port} for forward "busy": address already in use`);
    expect(p.stderr).not.toMatch(/\n\s+at /);
  });

  it('on SIGTERM finishes in-flight exchanges, logs every one that got a response, and exits 0', async () => {
    const held: ServerResponse[] = [];
    let arrived: () => void = () => undefined;
    const allArrived = new Promise<void>((r) => (arrived = r));
    const N = 20;
    const up = await startUpstream((_req, res) => {
      held.push(res);
      if (held.length === N) arrived();
    });
    cleanups.push(up.close);
    const { proc, base, file } = await kflogWithJsonLog({ url: up.url });

    const responses = Array.from({ length: N }, (_, i) =>
      request(`${base}/slow/${i}`).then(async (r) => ({ status: r.statusCode, body: await r.body.text() })),
    );
    await allArrived;
    proc.child.kill('SIGTERM');
    await proc.waitFor(() => proc.stderr.includes('SIGTERM: finishing'), 'shutdown to begin');
    for (const res of held) res.end('done');
    const got = await Promise.all(responses);
    expect(got.every((g) => g.status === 200 && g.body === 'done')).toBe(true);
    const { code } = await proc.exited;
    expect(code).toBe(0);
    const access = readLines(file).map((l) => JSON.parse(l)).filter((e) => e.logger === 'http.log.access.api');
    expect(access).toHaveLength(N);
    expect(new Set(access.map((e) => e.request.uri)).size).toBe(N);
    expect(access.every((e) => e.status === 200)).toBe(true);
    expect(proc.stderr).toMatch(/exit summary: .*log "all" written=40 sampled_out=0 dropped=0 failed=0/);
  });
});
