import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { parseConfigText } from '../../src/config/load.js';

import { Kflog } from '../../src/kflog.js';
import { tempDir } from '../helpers/files.js';
import { waitFor } from '../helpers/wait.js';

/**
 * A corpus of varied exchanges sent through the real proxy over raw sockets (so odd bytes reach kflog as a client
 * would send them): odd and invalid methods, quotes, backslashes, braces, UTF-8 and latin1 bytes, CR/LF attempts in
 * path, User-Agent and Referer, empty and huge values, bodies that try to forge kftray blocks, garbage on the wire.
 */

export interface Sent {
  /** Bytes written to the socket. */
  raw: Buffer;
  /** The first line on the wire up to LF (CR dropped), as text: what a rejected request is logged by. */
  line: string;
  ua: string | undefined;
  referer: string | undefined;
  method: string;
  uri: string;
}

/** How kflog's JSON should show a byte string: its UTF-8 text, bytes that are not UTF-8 as U+FFFD (as Caddy). */
export function shown(bytes: Buffer): string {
  return bytes.toString('utf8');
}

const b = (s: string): Buffer => Buffer.from(s, 'latin1');

/** Deterministic choices, so a failure can be reproduced. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'PURGE', 'PROPFIND', 'PROPPATCH', 'MKCOL', 'COPY', 'MOVE',
  'LOCK', 'UNLOCK', 'REPORT', 'SEARCH', 'NOTIFY', 'SUBSCRIBE', 'UNSUBSCRIBE', 'TRACE', 'LINK', 'UNLINK', 'MERGE', 'CHECKOUT', 'ACL'];
/** Methods Node's parser rejects: kflog answers 400 and logs the raw line. */
const BAD_METHODS = ['FOO', 'get', 'G\x01T', '<script>', '"GET"', 'BREW'];

const PATHS: Buffer[] = [
  '/', '/api/users', '/api/users?page=2&q=a%20b', '/a"b', '/back\\slash', '/brace{x}|y', '/hash#frag', '/%0d%0aInjected:%20x',
  '/%22quoted%22', "/it's", '/semi;colon', '/*star*', '/<tag>', '/status/404', '/status/500', '/status/204', '/bytes/10', '/delay/3',
  '//double//slash', '/..%2f..%2fetc%2fpasswd', '/?', '/?a=1&a=2', '/~user/%C3%BCn%C3%AF', '/api/users?x=' + 'y'.repeat(1000),
  'http://example.com/absolute', '/caf\xC3\xA9', '/cr\rlf', '/lf\nx', '/a b', '/tab\tx', '/nul\x00', '/del\x7f',
].map(b);

const HEADER_VALUES: Array<Buffer | undefined> = [
  undefined, b(''), b('curl/7.88.1'), b('Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36'),
  b('quote " inside'), b('"fully quoted"'), b('back\\slash'), b('tab\tin'), Buffer.from('naïve – ☃ 😀', 'utf8'), b('caf\xE9'), b('c1 \x85\x9b'),
  b('\xff\xfe'), b('x'.repeat(1000)), b('} { | # braces'), b('evil\r\nInjected: 1'), b('\x01ctrl'), b('DEL\x7f'),
  b('127.0.0.1 - - [01/Jan/2020:00:00:00 +0000] "GET /forged HTTP/1.1" 200 0 "-" "-"'), b('\\x22 looks escaped'), b('http://example.test/ref?a=1&b=2'),
  b('----------------------------------------'), b('esc \x1b[31mred'),
];

const FORGED_BODY = '{"note":"x"}\n----------------------------------------\nTrace ID: 00000000-0000-0000-0000-000000000000\n### \n# Trace ID: y';

function request(method: string, path: Buffer, ua: Buffer | undefined, referer: Buffer | undefined, body?: Buffer, contentType?: string): Sent {
  const parts: Buffer[] = [b(method + ' '), path, b(' HTTP/1.1\r\nHost: corpus.test\r\n')];
  if (ua !== undefined) parts.push(b('User-Agent: '), ua, b('\r\n'));
  if (referer !== undefined) parts.push(b('Referer: '), referer, b('\r\n'));
  if (body !== undefined) parts.push(b(`Content-Type: ${contentType ?? 'text/plain'}\r\nContent-Length: ${body.length}\r\n`));
  parts.push(b('Connection: close\r\n\r\n'));
  if (body !== undefined) parts.push(body);
  const raw = Buffer.concat(parts);
  return {
    raw,
    line: firstLine(raw),
    ua: headerValue(ua),
    referer: headerValue(referer),
    method,
    uri: shown(path),
  };
}

/** A value holding CRLF ends there: what follows is the next header line (or a parse error), not this value. */
function headerValue(v: Buffer | undefined): string | undefined {
  if (v === undefined) return undefined;
  const crlf = v.indexOf('\r\n');
  return shown(crlf === -1 ? v : v.subarray(0, crlf));
}

function firstLine(raw: Buffer): string {
  const nl = raw.indexOf(10);
  const first = raw.subarray(0, nl === -1 ? raw.length : nl);
  return shown(first[first.length - 1] === 13 ? first.subarray(0, first.length - 1) : first);
}

function garbage(raw: Buffer): Sent {
  return { raw, line: firstLine(raw), ua: undefined, referer: undefined, method: '', uri: '' };
}

/** ≥ 200 exchanges: every method, path and header value at least once, then seeded combinations. */
export function buildCorpus(): Sent[] {
  const out: Sent[] = [];
  for (const m of METHODS) out.push(request(m, b(m === 'OPTIONS' ? '*' : '/api/users'), b('curl/7.88.1'), undefined));
  for (const m of BAD_METHODS) out.push(request(m, b('/'), b('curl/7.88.1'), undefined));
  for (const p of PATHS) out.push(request('GET', p, b('curl/7.88.1'), b('-')));
  for (const v of HEADER_VALUES) out.push(request('GET', b('/api/users'), v, b('http://example.test/')));
  for (const v of HEADER_VALUES) out.push(request('GET', b('/api/users'), b('curl/7.88.1'), v));
  out.push(request('POST', b('/echo'), b('curl/7.88.1'), undefined, Buffer.from('{"name":"Jo","n":12345678901234567890}'), 'application/json'));
  out.push(request('POST', b('/echo'), b('curl/7.88.1'), undefined, Buffer.from(FORGED_BODY), 'text/plain'));
  out.push(request('PUT', b('/echo'), b('curl/7.88.1'), undefined, Buffer.from([0, 1, 2, 0xff, 0xfe, 10, 13]), 'application/octet-stream'));
  out.push(request('POST', b('/echo'), undefined, undefined, Buffer.alloc(0)));
  for (const raw of ['THIS IS NOT HTTP\r\n\r\n', '\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03', 'GET / HTTP/9.9\r\n\r\n',
    'GET / HTTP/1.1\r\nHost: a\r\nContent-Length: abc\r\n\r\n', 'GET / HTTP/1.1\r\nBad Header: x\r\n\r\n']) {
    out.push(garbage(b(raw)));
  }
  const next = rng(20261121);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(next() * list.length)]!;
  while (out.length < 240) {
    const method = pick(METHODS.filter((m) => m !== 'OPTIONS'));
    out.push(request(method, pick(PATHS), pick(HEADER_VALUES), pick(HEADER_VALUES)));
  }
  return out;
}

/**
 * Sends one exchange on its own connection and resolves when the server has closed it. The client does not
 * half-close first (that would read as a client going away before the response); every corpus request asks for
 * `Connection: close` or is one kflog rejects and closes.
 */
export function sendRaw(port: number, raw: Buffer, deadlineMs = 5000): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = connect(port, '127.0.0.1', () => socket.write(raw));
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error('no answer within ' + deadlineMs + ' ms to ' + JSON.stringify(raw.subarray(0, 60).toString('latin1'))));
    }, deadlineMs);
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', () => undefined); // a reset after the answer is fine: the exchange is logged either way
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks));
    });
  });
}

export interface CorpusRun {
  dir: string;
  sent: Sent[];
  /** Log file contents by name. */
  file(name: string): string;
}

/**
 * Starts kflog in-process with one log per format under test (each admitting only http.log entries of the corpus
 * forward), sends the corpus one exchange at a time, stops kflog (which flushes every log) and hands back the files.
 */
export async function runCorpus(logs: Record<string, Record<string, unknown>>): Promise<CorpusRun> {
  const { dir } = tempDir('corpus');
  const logConfig: Record<string, unknown> = { default: { writer: { output: 'discard' } } };
  for (const [name, encoder] of Object.entries(logs)) {
    const { include, ...enc } = encoder as { include?: string[] };
    logConfig[name] = { include: include ?? ['http.log'], writer: { output: 'file', filename: join(dir, name) }, encoder: enc };
  }
  const config = parseConfigText(
    JSON.stringify({
      forwards: [{ id: 'corpus', listen: '127.0.0.1:0', target: { builtin: 'echo' }, capture: { request_body: true, response_body: true, max_body_bytes: 4096 } }],
      logging: { logs: logConfig },
    }),
    'corpus test',
  );
  const app = await Kflog.start(config);
  const port = Number(app.address('corpus').split(':').pop());
  const listener = app.listeners[0]!;
  const sent = buildCorpus();
  try {
    for (const s of sent) {
      await sendRaw(port, s.raw);
      // The client saw the connection close; the proxy logs the exchange when its side closes. Wait for that, so
      // the log lines come in the order the exchanges were sent.
      await waitFor('no exchange in flight', () => listener.inflight === 0, 5000, 0);
    }
  } finally {
    await app.stop(2000);
  }
  return { dir, sent, file: (name) => readFileSync(join(dir, name), 'utf8') };
}

/** Whether a program is installed; under CI a missing judge is a failure, elsewhere the test skips loudly. */
export function program(name: string): boolean {
  const found = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).status === 0;
  if (!found) {
    if (process.env.CI) throw new Error(`${name} is required under CI (add it to .ci/run)`);
    console.warn(`\n*** SKIPPING: ${name} is not installed; these tests judge kflog's output with it ***\n`);
  }
  return found;
}
