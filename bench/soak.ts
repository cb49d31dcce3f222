/**
 * Soak: minutes of mixed traffic through the real `kflog run` process — plain and keep-alive requests, uploads,
 * big downloads, pipelined batches, WebSocket-style tunnels, clients giving up before the response and in the
 * middle of the body, upstream resets, a dead upstream, malformed requests. Every exchange carries an id; at the
 * end (after SIGTERM, which flushes everything) the access log must hold each id exactly once, and kflog's RSS,
 * sampled all along, must stay flat once warm.
 *
 *   npm run build && node dist/bench/soak.js [--minutes 3] [--concurrency 8]
 */
import { once } from 'node:events';
import { createReadStream, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { connect, createServer as createTcpServer, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { Agent, request } from 'undici';
import { mb, MiB, numberArg, startKflog } from './kflog-process.js';

export interface SoakOptions {
  durationMs?: number;
  /** Concurrent client loops. Default 8. */
  concurrency?: number;
  sampleEveryMs?: number;
}

export interface SoakResult {
  durationMs: number;
  /** Exchanges the clients caused, by kind of action. */
  actions: Record<string, number>;
  expected: number;
  logged: number;
  missing: string[];
  doubled: string[];
  unexpected: number;
  /** Client-side surprises (an action that did not behave as scripted), by message. */
  clientErrors: Record<string, number>;
  terminationStates: Record<string, number>;
  /** Termination states per kind of action: what each scripted behaviour was logged as. */
  statesByAction: Record<string, Record<string, number>>;
  rssSamples: number[];
  /** Mean RSS of the last quarter minus that of the first quarter after warm-up, bytes. */
  rssGrowth: number;
  exitCode: number | null;
  checks: Array<{ name: string; ok: boolean; detail: string }>;
  passed: boolean;
}

const JSON_BODY = Buffer.from(JSON.stringify({ users: Array.from({ length: 20 }, (_, i) => ({ id: i, name: `user ${i}` })) }));
const GZ_BODY = gzipSync(JSON_BODY);
const CHUNK = Buffer.alloc(64 * 1024, 0x63);

/** The upstream: one handler per behaviour. Requests carry ?id=…; `seen` lets a client wait for its request. */
class SoakUpstream {
  readonly seen = new Set<string>();
  private server = createServer((req, res) => this.handle(req, res));
  private sockets = new Set<Socket>();
  origin = '';

  async start(): Promise<void> {
    this.server.on('connection', (s: Socket) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    this.server.on('upgrade', (_req: IncomingMessage, socket: Socket, head: Buffer) => {
      socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n');
      if (head.length) socket.write(head);
      socket.on('error', () => undefined);
      socket.pipe(socket);
    });
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
    this.origin = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://x');
    const id = url.searchParams.get('id');
    if (id) this.seen.add(id);
    res.on('error', () => undefined);
    switch (url.pathname) {
      case '/ok':
        res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': JSON_BODY.length }).end(JSON_BODY);
        return;
      case '/gzip':
        res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Encoding': 'gzip', 'Content-Length': GZ_BODY.length }).end(GZ_BODY);
        return;
      case '/echo': {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          const body = Buffer.concat(chunks);
          res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': body.length }).end(body);
        });
        return;
      }
      case '/big':
        return stream(res, 2 * MiB, 0);
      case '/stream':
        return stream(res, 64 * MiB, 5);
      case '/slow': {
        const t = setTimeout(() => res.end('slow'), 2000);
        res.on('close', () => clearTimeout(t));
        return;
      }
      case '/reset':
        res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': 1_000_000 });
        res.write(CHUNK, () => setTimeout(() => req.socket.resetAndDestroy(), 5));
        return;
      default:
        res.writeHead(404).end();
    }
  }
}

function stream(res: ServerResponse, total: number, pauseMs: number): void {
  res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': total });
  let left = total;
  const pump = (): void => {
    while (left > 0) {
      const n = Math.min(left, CHUNK.length);
      left -= n;
      const ok = res.write(n === CHUNK.length ? CHUNK : CHUNK.subarray(0, n));
      if (pauseMs > 0 && left > 0) {
        setTimeout(pump, pauseMs);
        return;
      }
      if (!ok) {
        res.once('drain', pump);
        return;
      }
    }
    res.end();
  };
  res.on('close', () => (left = 0));
  pump();
}

/** Reads a body to its end (undici's dump() stops at 128 KiB: a client abort), counting bytes. */
async function drain(body: AsyncIterable<Buffer>): Promise<number> {
  let n = 0;
  for await (const chunk of body) n += chunk.length;
  return n;
}

/** A raw client connection that collects what it receives. */
async function rawSocket(port: number): Promise<{ socket: Socket; got: () => number; text: () => string; closed: Promise<void> }> {
  const socket = connect(port, '127.0.0.1');
  await once(socket, 'connect');
  const chunks: Buffer[] = [];
  let n = 0;
  socket.on('data', (d: Buffer) => {
    n += d.length;
    if (chunks.length < 64) chunks.push(d);
  });
  socket.on('error', () => undefined);
  const closed = new Promise<void>((r) => socket.once('close', () => r()));
  return { socket, got: () => n, text: () => Buffer.concat(chunks).toString('latin1'), closed };
}

async function waitFor(cond: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

type Action = (ctx: Ctx, id: string) => Promise<string[]>;

interface Ctx {
  app: number;
  dead: number;
  agent: Agent;
  upstream: SoakUpstream;
}

/** Each action returns the ids of the exchanges it caused (each must be logged exactly once). */
const ACTIONS: Array<[string, number, Action]> = [
  ['get', 30, async (c, id) => {
    const r = await request(`http://127.0.0.1:${c.app}/ok?id=${id}`, { dispatcher: c.agent });
    await r.body.dump();
    return [id];
  }],
  ['gzip', 5, async (c, id) => {
    const r = await request(`http://127.0.0.1:${c.app}/gzip?id=${id}`, { dispatcher: c.agent });
    await r.body.dump();
    return [id];
  }],
  ['upload', 10, async (c, id) => {
    const body = Buffer.alloc(Math.floor(Math.random() * 200_000), 0x75);
    const r = await request(`http://127.0.0.1:${c.app}/echo?id=${id}`, { method: 'POST', body, dispatcher: c.agent });
    const back = Buffer.from(await r.body.arrayBuffer());
    if (back.length !== body.length) throw new Error('upload echoed short');
    return [id];
  }],
  ['big', 5, async (c, id) => {
    const r = await request(`http://127.0.0.1:${c.app}/big?id=${id}`, { dispatcher: c.agent });
    if ((await drain(r.body)) !== 2 * MiB) throw new Error('big: short body');
    return [id];
  }],
  ['pipelined', 8, async (c, id) => {
    const s = await rawSocket(c.app);
    const ids = [`${id}a`, `${id}b`, `${id}c`];
    s.socket.write(ids.map((x) => `GET /ok?id=${x} HTTP/1.1\r\nHost: soak\r\n\r\n`).join(''));
    await waitFor(() => s.text().split('HTTP/1.1 200').length - 1 === 3 && s.got() >= 3 * JSON_BODY.length, 20_000, 'pipelined responses');
    s.socket.end();
    await s.closed;
    return ids;
  }],
  ['give-up', 6, async (c, id) => {
    const s = await rawSocket(c.app);
    s.socket.write(`GET /slow?id=${id} HTTP/1.1\r\nHost: soak\r\n\r\n`);
    await waitFor(() => c.upstream.seen.has(id), 20_000, 'request upstream');
    s.socket.destroy();
    return [id];
  }],
  ['abort-mid-body', 6, async (c, id) => {
    const s = await rawSocket(c.app);
    s.socket.write(`GET /stream?id=${id} HTTP/1.1\r\nHost: soak\r\n\r\n`);
    await waitFor(() => s.got() > 200_000, 20_000, 'some body');
    s.socket.destroy();
    return [id];
  }],
  ['upstream-reset', 5, async (c, id) => {
    const r = await request(`http://127.0.0.1:${c.app}/reset?id=${id}`, { dispatcher: c.agent });
    const got = await drain(r.body).catch(() => -1);
    if (got !== -1) throw new Error('reset: body completed');
    return [id];
  }],
  ['dead-upstream', 5, async (c, id) => {
    const r = await request(`http://127.0.0.1:${c.dead}/x?id=${id}`, { dispatcher: c.agent });
    await r.body.dump();
    if (r.statusCode !== 502) throw new Error(`dead upstream: ${r.statusCode}`);
    return [id];
  }],
  ['malformed', 5, async (c, id) => {
    const s = await rawSocket(c.app);
    s.socket.write(`GARBAGE\x01 /x?id=${id} HTTP/1.1\r\n\r\n`);
    await s.closed;
    if (!s.text().startsWith('HTTP/1.1 400')) throw new Error('malformed: no 400');
    return [id];
  }],
  ['tunnel', 5, async (c, id) => {
    const s = await rawSocket(c.app);
    s.socket.write(`GET /ws?id=${id} HTTP/1.1\r\nHost: soak\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\nping-${id}`);
    await waitFor(() => s.text().includes(`ping-${id}`), 20_000, 'tunnel echo');
    s.socket.end();
    await s.closed;
    return [id];
  }],
];

function pick(): [string, Action] {
  const total = ACTIONS.reduce((n, a) => n + a[1], 0);
  let r = Math.random() * total;
  for (const [name, weight, action] of ACTIONS) {
    if ((r -= weight) < 0) return [name, action];
  }
  return [ACTIONS[0]![0], ACTIONS[0]![2]];
}

async function freePort(): Promise<number> {
  const s = createTcpServer();
  s.listen(0, '127.0.0.1');
  await once(s, 'listening');
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

export async function runSoak(options: SoakOptions = {}): Promise<SoakResult> {
  const durationMs = options.durationMs ?? 3 * 60_000;
  const concurrency = options.concurrency ?? 8;
  const sampleEveryMs = options.sampleEveryMs ?? 2000;
  const dir = mkdtempSync(join(tmpdir(), 'kflog-soak-'));
  const upstream = new SoakUpstream();
  await upstream.start();
  const logFile = join(dir, 'access.log');
  const k = await startKflog(join(dir, 'kflog.json'), {
    forwards: [
      { id: 'app', listen: '127.0.0.1:0', target: { url: upstream.origin }, capture: { request_body: true, response_body: true, max_body_bytes: 1024 } },
      { id: 'dead', listen: '127.0.0.1:0', target: { url: `http://127.0.0.1:${await freePort()}` } },
    ],
    logging: {
      logs: {
        default: { writer: { output: 'discard' } },
        access: { include: ['http.log.access'], writer: { output: 'file', filename: logFile }, encoder: { format: 'json' } },
      },
    },
  }, 2);
  const agent = new Agent({ connections: 4 });
  const ctx: Ctx = { app: k.ports[0]!, dead: k.ports[1]!, agent, upstream };
  const actions: Record<string, number> = {};
  const clientErrors: Record<string, number> = {};
  const expected: string[] = [];
  const actionOf = new Map<string, string>();
  const rssSamples: number[] = [];
  const sampler = setInterval(() => rssSamples.push(k.rss()), sampleEveryMs);
  const end = Date.now() + durationMs;
  let seq = 0;
  try {
    await Promise.all(Array.from({ length: concurrency }, async () => {
      while (Date.now() < end) {
        const [name, action] = pick();
        const id = `s${++seq}`;
        try {
          const ids = await action(ctx, id);
          for (const x of ids) actionOf.set(x, name);
          expected.push(...ids);
          actions[name] = (actions[name] ?? 0) + 1;
        } catch (err) {
          const msg = `${name}: ${(err as Error).message}`;
          clientErrors[msg] = (clientErrors[msg] ?? 0) + 1;
          // The exchange may or may not have reached kflog: leave it out of the exactly-once check.
          expected.push(`?${id}`);
        }
      }
    }));
  } finally {
    clearInterval(sampler);
    await agent.close();
  }
  const exitCode = await k.stop();
  await upstream.stop();

  const counts = new Map<string, number>();
  const terminationStates: Record<string, number> = {};
  const statesByAction: Record<string, Record<string, number>> = {};
  let logged = 0;
  // Line by line: minutes of traffic with bodies make a file larger than one string can hold.
  for await (const line of createInterface({ input: createReadStream(logFile), crlfDelay: Infinity })) {
    if (!line) continue;
    logged++;
    const e = JSON.parse(line) as { request: { uri: string; raw_line?: string }; termination_state: string };
    terminationStates[e.termination_state] = (terminationStates[e.termination_state] ?? 0) + 1;
    const m = /[?&]id=([a-z0-9]+)/.exec(e.request.uri || e.request.raw_line || '');
    // The json format has no raw line for a malformed request: those are matched by count, below.
    const id = m ? m[1]! : e.termination_state === 'CR--' ? '(malformed)' : '(no id)';
    counts.set(id, (counts.get(id) ?? 0) + 1);
    const by = (statesByAction[actionOf.get(id) ?? id] ??= {});
    by[e.termination_state] = (by[e.termination_state] ?? 0) + 1;
  }
  rmSync(dir, { recursive: true, force: true });

  const uncertain = new Set(expected.filter((x) => x.startsWith('?')).map((x) => x.slice(1)));
  const sure = expected.filter((x) => !x.startsWith('?'));
  const notFound = sure.filter((id) => !counts.has(id));
  // Malformed requests whose line carries no id (a format without the raw request line) are matched by count.
  const malformedNotFound = notFound.filter((id) => actionOf.get(id) === 'malformed').length;
  const anonymousMalformed = counts.get('(malformed)') ?? 0;
  counts.delete('(malformed)');
  const missing = notFound.filter((id) => actionOf.get(id) !== 'malformed');
  let unexpected = 0;
  if (malformedNotFound > anonymousMalformed) missing.push(`${malformedNotFound - anonymousMalformed} malformed`);
  if (anonymousMalformed > malformedNotFound) unexpected += anonymousMalformed - malformedNotFound;
  const doubled = [...counts].filter(([id, n]) => n > 1 && !id.startsWith('(')).map(([id]) => id);
  const sureSet = new Set(sure);
  for (const [id, n] of counts) {
    // A pipelined batch's ids are its action's id plus a, b or c.
    if (!sureSet.has(id) && !uncertain.has(id) && !uncertain.has(id.slice(0, -1))) unexpected += n;
  }

  const warm = rssSamples.slice(Math.floor(rssSamples.length / 5));
  const quarter = Math.max(1, Math.floor(warm.length / 4));
  const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
  const rssGrowth = mean(warm.slice(-quarter)) - mean(warm.slice(0, quarter));
  const errorsTotal = Object.values(clientErrors).reduce((a, b) => a + b, 0);
  const checks = [
    { name: 'every exchange logged exactly once', ok: missing.length === 0 && doubled.length === 0 && unexpected === 0,
      detail: `${sure.length} expected, ${missing.length} missing, ${doubled.length} doubled, ${unexpected} unexpected` },
    { name: 'RSS flat once warm (growth < 16 MiB)', ok: rssGrowth < 16 * MiB,
      detail: `${mb(rssGrowth)} (first ${mb(warm[0] ?? 0)}, last ${mb(warm.at(-1) ?? 0)}, max ${mb(Math.max(...rssSamples))})` },
    { name: 'client actions behaved as scripted', ok: errorsTotal <= sure.length / 1000, detail: `${errorsTotal} surprises` },
    { name: 'kflog exited 0 after SIGTERM', ok: exitCode === 0, detail: String(exitCode) },
  ];
  return {
    durationMs, actions, expected: sure.length, logged, missing: missing.slice(0, 20), doubled: doubled.slice(0, 20), unexpected,
    clientErrors, terminationStates, statesByAction, rssSamples, rssGrowth, exitCode, checks, passed: checks.every((c) => c.ok),
  };
}

export function formatSoak(r: SoakResult): string {
  return [
    `soak: ${(r.durationMs / 60_000).toFixed(1)} min, ${r.expected} exchanges, ${r.logged} access lines`,
    `  actions: ${Object.entries(r.actions).map(([k, v]) => `${k}=${v}`).join(' ')}`,
    `  termination states: ${Object.entries(r.terminationStates).map(([k, v]) => `${k}=${v}`).join(' ')}`,
    ...Object.entries(r.statesByAction).map(([a, st]) => `    ${a}: ${Object.entries(st).map(([k, v]) => `${k}=${v}`).join(' ')}`),
    ...(Object.keys(r.clientErrors).length ? [`  client surprises: ${JSON.stringify(r.clientErrors)}`] : []),
    ...(r.missing.length ? [`  missing (first): ${r.missing.join(' ')}`] : []),
    ...(r.doubled.length ? [`  doubled (first): ${r.doubled.join(' ')}`] : []),
    `  RSS samples (MiB): ${r.rssSamples.map((x) => (x / MiB).toFixed(0)).join(' ')}`,
    ...r.checks.map((c) => `  ${c.ok ? 'ok  ' : 'FAIL'} ${c.name}: ${c.detail}`),
  ].join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const result = await runSoak({ durationMs: numberArg('minutes', 3) * 60_000, concurrency: numberArg('concurrency', 8) });
  process.stdout.write(formatSoak(result) + '\n');
  process.exitCode = result.passed ? 0 : 1;
}
