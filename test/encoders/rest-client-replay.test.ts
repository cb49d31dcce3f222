import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { createRequire } from 'node:module';
import { basename, dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { tempDir, waitForLines } from '../helpers/files.js';
import { startKflog } from '../helpers/kflog-process.js';
import { startUpstream } from '../helpers/upstream.js';

/** httpyac is a devDependency: the real REST-client CLI, always installed with the project. */
const HTTPYAC = createRequire(import.meta.url).resolve('httpyac/bin/httpyac.js');

interface Received {
  method: string;
  url: string;
  headers: Array<[string, string]>;
  body: Buffer;
}

/** A request as the test's client sends it; headers the REST client would add itself are given explicitly. */
interface Sent {
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: Buffer;
  /** Why kflog's file must not replay it (it was not captured whole). */
  skipped?: RegExp;
}

const BASE_HEADERS = { 'User-Agent': 'replay-test/1', Accept: '*/*', 'Accept-Encoding': 'identity' };
const MAX_BODY_BYTES = 256;

const mixed: Sent[] = [
  { method: 'GET', path: '/search?q=kflog%20logs&page=2' },
  { method: 'POST', path: '/orders', headers: { 'Content-Type': 'application/json' }, body: Buffer.from('{"item":"book","qty":2,"note":"two  spaces"}') },
  {
    method: 'PUT',
    path: '/profile/7',
    headers: { 'Content-Type': 'application/json', Authorization: 'Bearer s3cret-token', Cookie: 'sid=abc123; theme=dark' },
    body: Buffer.from('{"name":"Ada","langs":["en","fr"]}'),
  },
  { method: 'POST', path: '/login', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: Buffer.from('user=ada&pass=p%26ss&remember=on') },
  {
    method: 'POST',
    path: '/upload',
    headers: { 'Content-Type': 'application/octet-stream' },
    body: Buffer.from(Array.from({ length: 64 }, (_v, i) => (i * 37) % 256)),
    skipped: /^# Not replayable: its body is binary \(64 bytes, application\/octet-stream\)/m,
  },
  { method: 'HEAD', path: '/health' },
  { method: 'DELETE', path: '/orders/7' },
  {
    method: 'POST',
    path: '/bulk',
    headers: { 'Content-Type': 'text/plain' },
    body: Buffer.from('x'.repeat(1000)),
    skipped: /^# Not replayable: its body was truncated by max_body_bytes \(256 bytes of 1000 bytes captured\)/m,
  },
];

/** Headers a proxy or client sets per connection, and the redacted ones: not what replay must reproduce. */
const NOT_COMPARED = new Set(['connection', 'keep-alive', 'transfer-encoding', 'te', 'upgrade', 'proxy-connection', 'authorization', 'cookie']);

function comparable(r: Received): { method: string; url: string; headers: string[]; body: string } {
  const headers = r.headers.filter(([n]) => !NOT_COMPARED.has(n)).map(([n, v]) => `${n}: ${v}`).sort();
  return { method: r.method, url: r.url, headers, body: r.body.toString('base64') };
}

function send(address: string, s: Sent): Promise<number> {
  const [host, port] = [address.slice(0, address.lastIndexOf(':')), Number(address.slice(address.lastIndexOf(':') + 1))];
  const headers: Record<string, string> = { ...BASE_HEADERS, ...s.headers };
  if (s.body !== undefined) headers['Content-Length'] = String(s.body.length);
  return new Promise((resolve, reject) => {
    const req = request({ host, port, method: s.method, path: s.path, headers, signal: AbortSignal.timeout(10_000) }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(s.body);
  });
}

function httpyac(file: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    // httpyac looks for files under its working directory only.
    const child = spawn(process.execPath, [HTTPYAC, 'send', basename(file), '--all'], { cwd: dirname(file), stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`httpyac did not finish within 60 s:\n${output}`));
    }, 60_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

describe('the kftray rest-client file, replayed by httpyac', () => {
  it('sends every request that was captured whole again with the same method, path, headers and body bytes, and skips the others saying why', async () => {
    const received: Received[] = [];
    const upstream = await startUpstream((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const headers: Array<[string, string]> = [];
        for (let i = 0; i < req.rawHeaders.length; i += 2) headers.push([req.rawHeaders[i]!.toLowerCase(), req.rawHeaders[i + 1]!]);
        received.push({ method: req.method!, url: req.url!, headers, body: Buffer.concat(chunks) });
        res.writeHead(200, { 'Content-Type': 'text/plain' }).end(req.method === 'HEAD' ? undefined : 'ok');
      });
    });
    cleanups.push(upstream.close);
    const { dir } = tempDir();
    const file = join(dir, 'replay.http');
    const { proc, addresses } = await startKflog(
      {
        forwards: [
          {
            id: 'api',
            listen: '127.0.0.1:0',
            target: { url: upstream.url },
            capture: { request_body: true, response_body: true, max_body_bytes: MAX_BODY_BYTES },
            log: { format: 'kftray', style: 'rest-client', filename: file },
          },
        ],
      },
      dir,
    );
    cleanups.push(() => proc.stop());

    for (const s of mixed) expect(await send(addresses.api!, s)).toBe(200);
    await waitForLines(file, (lines) => lines.filter((l) => l.startsWith('# Response at:')).length === mixed.length);
    expect(received).toHaveLength(mixed.length);
    const captured = received.splice(0);
    const text = readFileSync(file, 'utf8');

    expect(text.startsWith('# kflog HTTP log in REST Client format')).toBe(true);
    expect(text.match(/^@authorization = /gm)).toHaveLength(1);
    expect(text).toContain('Authorization: {{authorization}}\nCookie: {{cookie}}\n');
    expect(text).not.toContain('s3cret');
    for (const s of mixed.filter((m) => m.skipped)) expect(text).toMatch(s.skipped!);

    const replay = await httpyac(file);
    const whole = mixed.map((s, i) => ({ s, i })).filter(({ s }) => s.skipped === undefined);
    expect(replay.output).toContain(`${whole.length} requests processed (${whole.length} succeeded)`);
    expect(replay.code, replay.output).toBe(0);
    expect(received.map((r) => `${r.method} ${r.url}`)).toEqual(whole.map(({ s }) => `${s.method} ${s.path}`));
    whole.forEach(({ i }, n) => {
      expect(comparable(received[n]!), `${mixed[i]!.method} ${mixed[i]!.path}`).toEqual(comparable(captured[i]!));
    });
    // The redacted credentials went out as the file's variables, declared once at the top.
    const put = received.find((r) => r.method === 'PUT')!;
    expect(Object.fromEntries(put.headers.filter(([n]) => n === 'authorization' || n === 'cookie'))).toEqual({
      authorization: 'REDACTED',
      cookie: 'redacted=REDACTED',
    });
  });

  it('sends the real credentials after the user fills them in once, at the top of the file', async () => {
    const received: Received[] = [];
    const upstream = await startUpstream((req, res) => {
      const headers: Array<[string, string]> = [];
      for (let i = 0; i < req.rawHeaders.length; i += 2) headers.push([req.rawHeaders[i]!.toLowerCase(), req.rawHeaders[i + 1]!]);
      received.push({ method: req.method!, url: req.url!, headers, body: Buffer.alloc(0) });
      req.resume();
      req.on('end', () => res.end('ok'));
    });
    cleanups.push(upstream.close);
    const { dir } = tempDir();
    const file = join(dir, 'replay.http');
    const { proc, addresses } = await startKflog(
      { forwards: [{ id: 'api', listen: '127.0.0.1:0', target: { url: upstream.url }, log: { format: 'kftray', style: 'rest-client', filename: file } }] },
      dir,
    );
    cleanups.push(() => proc.stop());
    const secrets = { Authorization: 'Bearer s3cret-token', Cookie: 'sid=abc123; theme=dark' };
    for (const path of ['/a', '/b']) expect(await send(addresses.api!, { method: 'GET', path, headers: secrets })).toBe(200);
    await waitForLines(file, (lines) => lines.filter((l) => l.startsWith('# Response at:')).length === 2);
    received.splice(0);

    const filled = readFileSync(file, 'utf8')
      .replace(/^@authorization = .*$/m, `@authorization = ${secrets.Authorization}`)
      .replace(/^@cookie = .*$/m, `@cookie = ${secrets.Cookie}`);
    writeFileSync(file, filled);
    const replay = await httpyac(file);

    expect(replay.code, replay.output).toBe(0);
    expect(received.map((r) => r.url)).toEqual(['/a', '/b']);
    for (const r of received) {
      expect(r.headers.find(([n]) => n === 'authorization')?.[1]).toBe(secrets.Authorization);
      expect(r.headers.find(([n]) => n === 'cookie')?.[1]).toBe(secrets.Cookie);
    }
  });

  it('declares the variables once in a file that a restarted kflog appends to, and replays the requests of both runs', async () => {
    const received: string[] = [];
    const upstream = await startUpstream((req, res) => {
      received.push(req.url!);
      req.resume();
      req.on('end', () => res.end('ok'));
    });
    cleanups.push(upstream.close);
    const { dir } = tempDir();
    const file = join(dir, 'replay.http');
    const config = { forwards: [{ id: 'api', listen: '127.0.0.1:0', target: { url: upstream.url }, log: { format: 'kftray', style: 'rest-client', filename: file } }] };
    for (const path of ['/first-run', '/second-run']) {
      const { proc, addresses } = await startKflog(config, dir);
      cleanups.push(() => proc.stop());
      expect(await send(addresses.api!, { method: 'GET', path, headers: { Authorization: 'Basic eA==' } })).toBe(200);
      await waitForLines(file, (lines) => lines.includes(`GET http://${addresses.api}${path} HTTP/1.1`) && lines.filter((l) => l.startsWith('# Response at:')).length === received.length);
      if (path === '/first-run') expect((await proc.stop()).code).toBe(0);
    }
    received.splice(0);
    const text = readFileSync(file, 'utf8');
    expect(text.match(/^@authorization = /gm)).toHaveLength(1);
    expect(text.match(/^# kflog HTTP log in REST Client format/gm)).toHaveLength(1);

    // The first run's forward listened on another port, closed now: only the second run's request gets through.
    const replay = await httpyac(file);
    expect(replay.output).toContain('2 requests processed (1 succeeded, 1 errored)');
    expect(received).toEqual(['/second-run']);
  });
});
