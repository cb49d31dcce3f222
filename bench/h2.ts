/**
 * HTTP/2 throughput, kflog against Caddy doing the same: h2load (nghttp2) drives each proxy over h2c (prior
 * knowledge on the HTTP/1.1 port) and over TLS (h2 by ALPN), and every proxy speaks h2c to the same upstream:
 * nginx (one worker, no log) answering the 34-byte JSON with `listen … http2`, or, without nginx, a node:http2
 * server. Each proxy logs as its users run it: kflog a json access log file (on its log thread), Caddy its JSON
 * access log file. Interleaved rounds, so drift on a shared machine hits each contestant alike; each contestant's
 * own CPU per request beside its req/s.
 *
 *   npm run build && node dist/bench/h2.js     (BENCH_SECONDS, BENCH_ROUNDS: default 5 s × 5 rounds;
 *                                               H2_CLIENTS × H2_STREAMS: default 10 connections × 10 streams)
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:http2';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { CLI, cpuMicros, freePort, median, startProcess, table, which, type Proc } from './lib.js';
import type { BenchSection } from './run.js';

const seconds = Number(process.env.BENCH_SECONDS ?? 5);
const rounds = Number(process.env.BENCH_ROUNDS ?? 5);
const clients = Number(process.env.H2_CLIENTS ?? 10);
const streams = Number(process.env.H2_STREAMS ?? 10);

const USERS_JSON = '{"users":[{"id":1,"name":"John"}]}';

interface Contestant {
  name: string;
  /** Which transport the client speaks: the pairs compared are kflog and Caddy on the same one. */
  transport: 'h2c' | 'h2 over TLS';
  proxy: 'kflog' | 'Caddy';
  url: string;
  proc: Proc;
}

interface Round {
  rps: number;
  requests: number;
  errors: number;
  cpuUs: number;
}

/** One h2load run: req/s over the measured duration, requests done, and those that failed or were not 2xx. */
function h2load(url: string, secs: number): Omit<Round, 'cpuUs'> {
  const out = execFileSync('h2load', ['-t1', `-c${clients}`, `-m${streams}`, '-D', String(secs), '--warm-up-time=1', url], {
    encoding: 'utf8', timeout: (secs + 30) * 1000,
  });
  const rps = Number(/finished in [\d.]+\w*, ([\d.]+) req\/s/.exec(out)?.[1] ?? NaN);
  const done = /requests: \d+ total, \d+ started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored, (\d+) timeout/.exec(out);
  const codes = /status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx/.exec(out);
  if (!done || !codes) throw new Error(`h2load output not understood:\n${out}`);
  const errors = Number(done[3]) + Number(done[4]) + Number(done[5]) + Number(codes[3]) + Number(codes[4]);
  return { rps, requests: Number(done[1]), errors };
}

/** Polls with a deadline until an HTTP/2 GET (h2c, or TLS without verification) answers 200. */
async function waitH2(url: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const session = connect(url, { rejectUnauthorized: false });
      const t = setTimeout(() => done(false), 2000);
      const done = (v: boolean): void => {
        clearTimeout(t);
        session.destroy();
        resolve(v);
      };
      session.on('error', () => done(false));
      const req = session.request({ ':path': new URL(url).pathname });
      req.on('response', (h) => {
        req.resume();
        req.on('end', () => done(h[':status'] === 200));
      });
      req.on('error', () => done(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`${url} did not answer over HTTP/2 within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

interface Upstream {
  port: number;
  proc: Proc;
  label: string;
}

/** The h2c upstream: nginx when installed (a native server takes little of the two cores), else node:http2. */
async function startUpstream(dir: string): Promise<Upstream> {
  const port = await freePort();
  const nginx = which('nginx');
  if (nginx) {
    const cfg = join(dir, 'nginx.conf');
    writeFileSync(cfg, `daemon off; worker_processes 1; pid ${dir}/nginx.pid; error_log ${dir}/nginx-error.log;
events { worker_connections 4096; }
http {
  access_log off; keepalive_requests 100000000; keepalive_timeout 300s; http2_max_concurrent_streams 1024;
  client_body_temp_path ${dir}; proxy_temp_path ${dir}; fastcgi_temp_path ${dir}; uwsgi_temp_path ${dir}; scgi_temp_path ${dir};
  server { listen 127.0.0.1:${port} http2; location / { default_type application/json; return 200 '${USERS_JSON}'; } }
}
`);
    const proc = startProcess(nginx, ['-c', cfg, '-p', dir], { cwd: dir });
    await waitH2(`http://127.0.0.1:${port}/api/users`);
    return { port, proc, label: 'nginx 1 worker, no log, h2c (`listen … http2`) answering the 34-byte JSON' };
  }
  const script = join(dir, 'h2-upstream.mjs');
  writeFileSync(script, `import { createServer } from 'node:http2';
const body = Buffer.from(${JSON.stringify(USERS_JSON)});
const s = createServer({ settings: { maxConcurrentStreams: 1024 } });
s.on('stream', (st) => { st.respond({ ':status': 200, 'content-type': 'application/json', 'content-length': body.length }); st.end(body); });
s.listen(${port}, '127.0.0.1');
process.on('SIGTERM', () => process.exit(0));
`);
  const proc = startProcess(process.execPath, [script]);
  await waitH2(`http://127.0.0.1:${port}/api/users`);
  return { port, proc, label: 'a node:http2 h2c server answering the 34-byte JSON (nginx not installed)' };
}

/** A certificate for 127.0.0.1 both TLS proxies serve, made by openssl: neither pays for a CA of its own. */
function makeCert(dir: string): { cert: string; key: string } {
  const cert = join(dir, 'leaf.crt');
  const key = join(dir, 'leaf.key');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', cert,
    '-days', '2', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'pipe', timeout: 20_000 });
  return { cert, key };
}

async function startKflog(dir: string, upstream: number, tls: { cert: string; key: string } | undefined): Promise<Contestant> {
  const port = await freePort();
  const name = tls ? 'kflog-tls' : 'kflog-h2c';
  const cfg = join(dir, `${name}.json`);
  writeFileSync(cfg, JSON.stringify({
    forwards: [{
      id: 'bench',
      listen: `127.0.0.1:${port}`,
      target: { url: `http://127.0.0.1:${upstream}` },
      versions: ['h2c'],
      ...(tls ? { listen_tls: { cert_file: tls.cert, key_file: tls.key } } : { protocols: ['h1', 'h2c'] }),
    }],
    logging: {
      logs: {
        default: { exclude: ['http.log'] },
        json: { include: ['http.log.access'], writer: { output: 'file', filename: join(dir, `${name}-access.json`) }, encoder: { format: 'json' } },
      },
    },
  }));
  const proc = startProcess(process.execPath, [CLI, 'run', '--config', cfg], { cwd: dir });
  const url = `${tls ? 'https' : 'http'}://127.0.0.1:${port}/api/users`;
  await waitH2(url).catch((e: Error) => {
    throw new Error(`${name}: ${e.message}\n${proc.output()}`);
  });
  return { name: tls ? 'kflog, h2 over TLS, json access log' : 'kflog, h2c, json access log', transport: tls ? 'h2 over TLS' : 'h2c', proxy: 'kflog', url, proc };
}

async function startCaddy(caddy: string, dir: string, upstream: number, tls: { cert: string; key: string } | undefined): Promise<Contestant> {
  const port = await freePort();
  const name = tls ? 'caddy-tls' : 'caddy-h2c';
  const cfg = join(dir, `${name}.json`);
  writeFileSync(cfg, JSON.stringify({
    admin: { disabled: true },
    storage: { module: 'file_system', root: join(dir, `${name}-storage`) },
    logging: {
      logs: {
        default: { level: 'ERROR' },
        access: { include: ['http.log.access'], writer: { output: 'file', filename: join(dir, `${name}-access.json`) }, encoder: { format: 'json' } },
      },
    },
    apps: {
      http: {
        servers: {
          bench: {
            listen: [`127.0.0.1:${port}`],
            // h3 is left out: h2load speaks TCP only.
            protocols: tls ? ['h1', 'h2'] : ['h1', 'h2c'],
            automatic_https: { disable: true },
            logs: {},
            ...(tls ? { tls_connection_policies: [{}] } : {}),
            routes: [{
              handle: [{
                handler: 'reverse_proxy',
                transport: { protocol: 'http', versions: ['h2c'] },
                upstreams: [{ dial: `127.0.0.1:${upstream}` }],
              }],
            }],
          },
        },
      },
      ...(tls ? { tls: { certificates: { load_files: [{ certificate: tls.cert, key: tls.key }] } } } : {}),
    },
  }));
  const proc = startProcess(caddy, ['run', '--config', cfg], { cwd: dir });
  const url = `${tls ? 'https' : 'http'}://127.0.0.1:${port}/api/users`;
  await waitH2(url).catch((e: Error) => {
    throw new Error(`${name}: ${e.message}\n${proc.output()}`);
  });
  return { name: tls ? 'Caddy, h2 over TLS, JSON access log' : 'Caddy, h2c, JSON access log', transport: tls ? 'h2 over TLS' : 'h2c', proxy: 'Caddy', url, proc };
}

function lineCount(file: string): number {
  return existsSync(file) ? readFileSync(file, 'utf8').split('\n').length - 1 : 0;
}

export async function bench(): Promise<BenchSection> {
  if (!which('h2load')) throw new Error('h2load is not installed (apt-get install nghttp2-client)');
  const caddy = which('caddy');
  if (!caddy) throw new Error('caddy is not installed (apt-get install caddy): there is nothing to compare kflog with');
  const dir = mkdtempSync(join(tmpdir(), 'kflog-bench-h2-'));
  const contestants: Contestant[] = [];
  let upstream: Upstream | undefined;
  try {
    upstream = await startUpstream(dir);
    const tls = makeCert(dir);
    contestants.push(await startKflog(dir, upstream.port, undefined));
    contestants.push(await startCaddy(caddy, dir, upstream.port, undefined));
    contestants.push(await startKflog(dir, upstream.port, tls));
    contestants.push(await startCaddy(caddy, dir, upstream.port, tls));
    // Warm-up: the JIT, and the proxies' upstream connections.
    for (const c of contestants) h2load(c.url, Math.max(2, Math.min(seconds, 5)));
    const results = new Map<string, Round[]>();
    for (let r = 0; r < rounds; r++) {
      for (const c of contestants) {
        const pid = c.proc.child.pid!;
        const cpu0 = cpuMicros(pid);
        const res = h2load(c.url, seconds);
        // The CPU of the whole run (its warm-up second too) over the requests of the measured part: a slight
        // overstatement, the same for every contestant.
        const cpuUs = (cpuMicros(pid) - cpu0) / res.requests;
        results.set(c.name, [...(results.get(c.name) ?? []), { ...res, cpuUs }]);
      }
    }
    const row = (c: Contestant): Array<string | number> => {
      const rs = results.get(c.name)!;
      return [c.name, median(rs.map((x) => x.rps)), median(rs.map((x) => x.cpuUs)), String(rs.reduce((a, x) => a + x.errors, 0))];
    };
    const ratios: Array<Array<string | number>> = [];
    for (const transport of ['h2c', 'h2 over TLS'] as const) {
      const k = results.get(contestants.find((c) => c.proxy === 'kflog' && c.transport === transport)!.name)!;
      const cd = results.get(contestants.find((c) => c.proxy === 'Caddy' && c.transport === transport)!.name)!;
      // Round by round (seconds apart, under the same neighbours), then the median of those ratios.
      const xs = k.map((x, i) => x.rps / cd[i]!.rps);
      const cpu = k.map((x, i) => x.cpuUs / cd[i]!.cpuUs);
      ratios.push([transport, `${median(xs).toFixed(2)}× (rounds ${Math.min(...xs).toFixed(2)}–${Math.max(...xs).toFixed(2)})`,
        `${median(cpu).toFixed(2)}× (rounds ${Math.min(...cpu).toFixed(2)}–${Math.max(...cpu).toFixed(2)})`]);
    }
    const markdown =
      table(['contestant', 'req/s', 'CPU µs/req', 'errors'], contestants.map(row)) +
      '\n\n' +
      table(['transport', 'kflog / Caddy req/s', 'kflog / Caddy CPU per request'], ratios) +
      `\n\nh2load -t1 -c${clients} -m${streams}, ${rounds} interleaved rounds of ${seconds}s each (after 1 s of warm-up ` +
      `each); first table: medians; ratios: median of the per-round ratios, with their range; upstream: ${upstream.label}.`;
    return {
      title: `HTTP/2 throughput, kflog vs Caddy (h2load -c${clients} -m${streams})`,
      markdown,
      notes: [
        'both proxies speak h2c to the upstream (kflog `versions: ["h2c"]`, Caddy `transport http { versions h2c }`); ' +
          'the TLS listeners serve the same openssl P-256 certificate',
        // Each proxy's log is counted: a contestant whose log stayed empty would be measured doing less.
        `access lines in each log's current file (Caddy rolls its file at 100 MB, so its count is of the last file only): ${contestants.map((c) => `${c.name} ${lineCount(join(dir, `${c.proxy === 'kflog' ? 'kflog' : 'caddy'}-${c.transport === 'h2c' ? 'h2c' : 'tls'}-access.json`))}`).join('; ')}`,
        `CPU µs/req: user + system time of the proxy process (all its threads) per request; the upstream and h2load are not counted`,
      ],
    };
  } finally {
    for (const c of contestants) await c.proc.stop();
    await upstream?.proc.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const s = await bench();
  console.log(`## ${s.title}\n\n${s.markdown}\n`);
  for (const n of s.notes ?? []) console.log(`- ${n}`);
}
