import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI, cpuMicros, machineShare, machineTicks, fmt, freePort, loadTool, median, runLoad, startProcess, table, waitHttp, which, ROOT, type LoadResult, type Proc } from './lib.js';

/**
 * Proxy throughput side by side, in interleaved rounds so drift (thermal, other load) hits every contestant alike:
 * the direct upstream, kflog with logging off, kflog with four file logs (kftray, json, clf, haproxy), and Caddy,
 * HAProxy and nginx with their access logs when they are installed.
 */
export interface ProxyBenchOptions {
  seconds: number;
  rounds: number;
  connections: number;
}

interface Contestant {
  name: string;
  url: string;
  proc?: Proc;
}

export interface ProxyBenchResult {
  rows: Array<{ name: string; cpuUs: number } & Omit<LoadResult, 'requests'>>;
  notes: string[];
  markdown: string;
}

/**
 * Logging off; four file logs on the log thread (the default); the same four on the proxy's own thread; the four
 * and the exchange store (issue 19: the store may cost at most a tenth of the requests).
 */
type KflogLogs = 'off' | 'thread' | 'inline' | 'store';

function kflogConfig(port: number, upstream: number, dir: string, logs: KflogLogs, processes: number): object {
  const forward = { id: 'bench', listen: `127.0.0.1:${port}`, target: { url: `http://127.0.0.1:${upstream}` } };
  if (logs === 'off') {
    return { listener_processes: processes, forwards: [{ ...forward, log: false }], logging: { logs: { default: { exclude: ['http.log'] } } } };
  }
  const file = (name: string): object => ({ output: 'file', filename: join(dir, name) });
  return {
    listener_processes: processes,
    forwards: [forward],
    logging: {
      thread: logs !== 'inline',
      logs: {
        ...(logs === 'store' ? { store: { include: ['http.log'], writer: { output: 'store', path: join(dir, 'exchanges.db') } } } : {}),
        default: { exclude: ['http.log'] },
        kftray: { include: ['http.log'], writer: file('kftray.log'), encoder: { format: 'kftray' } },
        json: { include: ['http.log.access'], writer: file('access.json'), encoder: { format: 'json' } },
        clf: { include: ['http.log.access'], writer: file('access.clf'), encoder: { format: 'clf', variant: 'combined' } },
        haproxy: { include: ['http.log.access'], writer: file('access.haproxy'), encoder: { format: 'haproxy' } },
      },
    },
  };
}

async function startKflog(name: string, upstream: number, dir: string, logs: KflogLogs, processes = 1): Promise<Contestant> {
  const port = await freePort();
  mkdirSync(dir, { recursive: true });
  const cfg = join(dir, `${name}.json`);
  writeFileSync(cfg, JSON.stringify(kflogConfig(port, upstream, dir, logs, processes)));
  const proc = startProcess(process.execPath, [CLI, 'run', '--config', cfg], { cwd: dir });
  const url = `http://127.0.0.1:${port}/api/users`;
  await waitHttp(url).catch((e: Error) => {
    throw new Error(`${name}: ${e.message}\n${proc.output()}`);
  });
  return { name, url, proc };
}

async function startBareProxy(upstream: number, processes: number): Promise<Contestant> {
  const port = await freePort();
  const proc = startProcess(process.execPath, [join(ROOT, 'dist/bench/bare-proxy.js'), String(port), String(upstream), String(processes)]);
  const url = `http://127.0.0.1:${port}/api/users`;
  await waitHttp(url);
  return { name: bareName(processes), url, proc };
}

/** kflog with `listener_processes: 2`: two event loops proxying, the primary writing the logs. */
const WITH_STORE = 'kflog, four file logs and the exchange store';
const LP2_OFF = 'kflog, logging off, 2 listener processes';
const LP2_FOUR = 'kflog, four file logs, 2 listener processes';

function bareName(processes: number): string {
  return processes === 1 ? 'bare Node proxy (node:http + undici Pool, no logging)' : `bare Node proxy, ${processes} processes (node:cluster)`;
}

const CADDY = 'Caddy (reverse_proxy + JSON access log)';
const CADDY_NO_LOG = 'Caddy (reverse_proxy, no access log)';

/** Caddy with its JSON access log to a file, or (`log` false) without one: what its own log costs it. */
async function startCaddy(upstream: number, dir: string, log = true): Promise<Contestant | undefined> {
  const caddy = which('caddy');
  if (!caddy) return undefined;
  const port = await freePort();
  const cfg = join(dir, log ? 'caddy.json' : 'caddy-no-log.json');
  writeFileSync(
    cfg,
    JSON.stringify({
      admin: { disabled: true },
      logging: {
        logs: {
          default: { level: 'ERROR' },
          access: { include: ['http.log.access'], writer: { output: 'file', filename: join(dir, 'caddy-access.log') }, encoder: { format: 'json' } },
        },
      },
      apps: {
        http: {
          servers: {
            bench: {
              listen: [`127.0.0.1:${port}`],
              automatic_https: { disable: true },
              ...(log ? { logs: {} } : {}),
              routes: [{ handle: [{ handler: 'reverse_proxy', upstreams: [{ dial: `127.0.0.1:${upstream}` }] }] }],
            },
          },
        },
      },
    }),
  );
  const proc = startProcess(caddy, ['run', '--config', cfg], { cwd: dir });
  const url = `http://127.0.0.1:${port}/api/users`;
  await waitHttp(url);
  return { name: log ? CADDY : CADDY_NO_LOG, url, proc };
}

async function startHaproxy(upstream: number, dir: string): Promise<Contestant | undefined> {
  const haproxy = which('haproxy');
  if (!haproxy) return undefined;
  const port = await freePort();
  const cfg = join(dir, 'haproxy.cfg');
  writeFileSync(
    cfg,
    [
      'global',
      `  log stdout format raw local0`,
      'defaults',
      '  mode http',
      '  log global',
      '  option httplog',
      '  timeout connect 5s',
      '  timeout client 30s',
      '  timeout server 30s',
      'frontend fe',
      `  bind 127.0.0.1:${port}`,
      '  default_backend be',
      'backend be',
      `  server app1 127.0.0.1:${upstream}`,
      '',
    ].join('\n'),
  );
  const proc = startProcess(haproxy, ['-db', '-f', cfg], { cwd: dir });
  // HAProxy writes its log to stdout: drain it (into our bounded buffer) as a real log would be written.
  const url = `http://127.0.0.1:${port}/api/users`;
  await waitHttp(url);
  return { name: 'HAProxy (option httplog)', url, proc };
}

async function startNginx(upstream: number, dir: string): Promise<Contestant | undefined> {
  const nginx = which('nginx');
  if (!nginx) return undefined;
  const port = await freePort();
  const cfg = join(dir, 'nginx.conf');
  writeFileSync(
    cfg,
    `daemon off; worker_processes auto; pid ${dir}/nginx.pid; error_log ${dir}/nginx-error.log;
events { worker_connections 1024; }
http {
  access_log ${dir}/nginx-access.log combined;
  client_body_temp_path ${dir}; proxy_temp_path ${dir}; fastcgi_temp_path ${dir}; uwsgi_temp_path ${dir}; scgi_temp_path ${dir};
  upstream up { server 127.0.0.1:${upstream}; keepalive 64; }
  server { listen 127.0.0.1:${port}; location / { proxy_pass http://up; proxy_http_version 1.1; proxy_set_header Connection ""; } }
}
`,
  );
  const proc = startProcess(nginx, ['-c', cfg, '-p', dir], { cwd: dir });
  const url = `http://127.0.0.1:${port}/api/users`;
  await waitHttp(url);
  return { name: 'nginx (combined access log)', url, proc };
}

/** The 34-byte JSON every contestant proxies (bench/upstream.ts serves the same bytes). */
const USERS_JSON = '{"users":[{"id":1,"name":"John"}]}';

interface Upstream {
  port: number;
  proc: Proc;
  /** How the table describes it. */
  label: string;
}

/**
 * The reference upstream answers ≈ 68k req/s on this machine class: a native server, not a Node one
 * (bench/upstream.ts does ≈ 20k here, at ~55 µs of CPU a request). A Node upstream would take a third of the two
 * cores from the proxies it is meant to measure, so the comparison would be of whole-machine CPU, not of proxies.
 * nginx, one worker, no log, answering from its config, is such an upstream; without nginx the Node one stands in.
 */
async function startUpstream(dir: string, notes: string[]): Promise<Upstream> {
  const port = await freePort();
  const nginx = which('nginx');
  if (nginx) {
    const root = join(dir, 'upstream');
    mkdirSync(root, { recursive: true });
    const cfg = join(root, 'nginx.conf');
    writeFileSync(
      cfg,
      `daemon off; worker_processes 1; pid ${root}/nginx.pid; error_log ${root}/error.log;
events { worker_connections 1024; }
http {
  access_log off; keepalive_requests 1000000; keepalive_timeout 60s;
  client_body_temp_path ${root}; proxy_temp_path ${root}; fastcgi_temp_path ${root}; uwsgi_temp_path ${root}; scgi_temp_path ${root};
  server { listen 127.0.0.1:${port}; location / { default_type application/json; return 200 '${USERS_JSON}'; } }
}
`,
    );
    const proc = startProcess(nginx, ['-c', cfg, '-p', root], { cwd: root });
    await waitHttp(`http://127.0.0.1:${port}/`);
    return { port, proc, label: 'nginx (1 worker, no log) answering the 34-byte JSON' };
  }
  notes.push(
    'nginx is not installed: the upstream is bench/upstream.ts, a Node server that takes ~55 µs of CPU a request ' +
      'from the same two cores, so every ratio below is compressed towards 1 (apt-get install nginx)',
  );
  const proc = startProcess(process.execPath, [join(ROOT, 'dist/bench/upstream.js'), String(port)]);
  await waitHttp(`http://127.0.0.1:${port}/`);
  return { port, proc, label: 'bench/upstream.ts (Node) answering the 34-byte JSON' };
}

export async function benchProxy(opts: ProxyBenchOptions): Promise<ProxyBenchResult> {
  const dir = mkdtempSync(join(tmpdir(), 'kflog-bench-'));
  const notes: string[] = [];
  const contestants: Contestant[] = [];
  let upstream: Upstream | undefined;
  try {
    upstream = await startUpstream(dir, notes);
    const upstreamPort = upstream.port;
    contestants.push({ name: 'direct upstream', url: `http://127.0.0.1:${upstreamPort}/api/users` });
    contestants.push(await startKflog('kflog, logging off', upstreamPort, dir, 'off'));
    contestants.push(await startKflog('kflog, four file logs', upstreamPort, dir, 'thread'));
    contestants.push(await startKflog('kflog, four file logs, logging.thread false', upstreamPort, join(dir, 'inline'), 'inline'));
    contestants.push(await startKflog(WITH_STORE, upstreamPort, join(dir, 'store'), 'store'));
    contestants.push(await startKflog(LP2_OFF, upstreamPort, join(dir, 'lp2-off'), 'off', 2));
    contestants.push(await startKflog(LP2_FOUR, upstreamPort, join(dir, 'lp2'), 'thread', 2));
    contestants.push(await startBareProxy(upstreamPort, 1));
    contestants.push(await startBareProxy(upstreamPort, 2));
    for (const [label, start] of [
      ['caddy', startCaddy],
      ['caddy', (up: number, d: string) => startCaddy(up, d, false)],
      ['haproxy', startHaproxy],
      ['nginx', startNginx],
    ] as const) {
      try {
        const c = await start(upstreamPort, dir);
        if (c) contestants.push(c);
        else notes.push(`${label} is not installed: not compared (apt-get install ${label})`);
      } catch (err) {
        notes.push(`${label} could not be started: ${(err as Error).message}`);
      }
    }
    // Warm-up: JIT and connection pools. Node processes keep speeding up for several seconds of load (seen:
    // 5.3k → 9.3k req/s over four 3 s rounds), so each contestant gets a full round's worth first.
    for (const c of contestants) runLoad(c.url, Math.max(3, opts.seconds), opts.connections);
    const results = new Map<string, Array<LoadResult & { cpuUs: number }>>();
    const machine0 = machineTicks();
    for (let r = 0; r < opts.rounds; r++) {
      for (const c of contestants) {
        // CPU per request is the steadier figure on a shared machine: req/s moves with what the neighbours do.
        const pid = (c.proc ?? upstream.proc).child.pid!;
        const cpu0 = cpuMicros(pid);
        const res = runLoad(c.url, opts.seconds, opts.connections);
        const cpuUs = (cpuMicros(pid) - cpu0) / res.requests;
        results.set(c.name, [...(results.get(c.name) ?? []), { ...res, cpuUs }]);
      }
    }
    const machine = machineShare(machine0, machineTicks());
    // Targets compare contestants round by round (seconds apart, under the same neighbours), then take the median
    // of those ratios: on a shared machine whose speed drifts by ±30% over minutes, that is steadier than the
    // ratio of two medians. The range shows how far single rounds strayed.
    const perRound = (a: string, b: string, f: (x: LoadResult) => number, diff: boolean): { mid: number; lo: number; hi: number } => {
      const ra = results.get(a)!;
      const rb = results.get(b)!;
      const xs = ra.map((x, i) => (diff ? f(x) - f(rb[i]!) : f(x) / f(rb[i]!)));
      return { mid: median(xs), lo: Math.min(...xs), hi: Math.max(...xs) };
    };
    const rows = contestants.map((c) => {
      const rs = results.get(c.name)!;
      return {
        name: c.name,
        rps: median(rs.map((x) => x.rps)),
        p50ms: median(rs.map((x) => x.p50ms)),
        p99ms: median(rs.map((x) => x.p99ms)),
        cpuUs: median(rs.map((x) => x.cpuUs)),
        errors: rs.reduce((a, x) => a + x.errors, 0),
      };
    });
    const four = rows.find((r) => r.name === 'kflog, four file logs')!;
    const off = rows.find((r) => r.name === 'kflog, logging off')!;
    const caddy = rows.find((r) => r.name === CADDY);
    const caddyNoLog = rows.find((r) => r.name === CADDY_NO_LOG);
    const bare = rows.find((r) => r.name === bareName(1))!;
    const bare2 = rows.find((r) => r.name === bareName(2))!;
    const off2 = rows.find((r) => r.name === LP2_OFF)!;
    const four2 = rows.find((r) => r.name === LP2_FOUR)!;
    const linesWritten = readFileSync(join(dir, 'access.json'), 'utf8').split('\n').length - 1;
    notes.push(`kflog four-log run wrote ${linesWritten} json access lines (every request of every round, warm-up included)`);
    notes.push(
      `CPU µs/req: user + system time of the contestant's processes (the upstream's for "direct") per request; ` +
        `the four logs cost kflog ${fmt(four.cpuUs - off.cpuUs)} µs of CPU per exchange (the proxy's thread and the log ` +
        `thread together); on a machine whose cores are all busy that bounds four logs at ${fmt(off.cpuUs / four.cpuUs)}× ` +
        `the requests of logging off`,
    );
    notes.push(
      `kflog with logging off serves ${fmt(off.rps / bare.rps)}× the requests of a bare Node proxy (kflog is undici's ` +
        `dispatch handler itself, with no body streams); a bare Node proxy in two processes serves ${fmt(bare2.rps / off.rps)}× ` +
        `kflog off, which is what a second event loop could buy` +
        (caddy ? `; kflog off serves ${fmt(off.rps / caddy.rps)}× Caddy's, the ceiling for four logs on one event loop` : ''),
    );
    notes.push(
      `with listener_processes 2, kflog with four logs serves ${fmt(four2.rps / four.rps)}× one process's requests ` +
        `(logging off: ${fmt(off2.rps / off.rps)}×); its CPU per exchange is ${fmt(four2.cpuUs)} µs against ` +
        `${fmt(four.cpuUs)} µs in one process (all its processes counted: the listener processes and the primary, ` +
        `which encodes and writes the logs)`,
    );
    if (caddy && caddyNoLog) {
      const vs = perRound(CADDY, CADDY_NO_LOG, (x) => x.rps, false);
      const p99 = perRound(CADDY, CADDY_NO_LOG, (x) => x.p99ms, true);
      notes.push(
        `Caddy's one JSON access log, by the same measure: ${vs.mid.toFixed(2)}× the requests of Caddy without it ` +
          `(rounds ${vs.lo.toFixed(2)}–${vs.hi.toFixed(2)}), p99 ${p99.mid >= 0 ? '+' : ''}${p99.mid.toFixed(2)} ms, ` +
          `${fmt(caddy.cpuUs - caddyNoLog.cpuUs)} µs of CPU per request; kflog's four logs cost ` +
          `${fmt(four.cpuUs - off.cpuUs)} µs`,
      );
    }
    if (machine) {
      notes.push(
        `while the rounds ran, the machine's CPUs were ${machine.busy}% busy, ${machine.idle}% idle and ${machine.steal}% ` +
          `stolen by the hypervisor (from /proc/stat; steal is time a virtual CPU wanted and did not get)`,
      );
    }
    const md =
      table(
        ['contestant', 'req/s', 'p50 ms', 'p99 ms', 'CPU µs/req', 'errors', '× kflog off', '× direct'],
        rows.map((r) => [r.name, r.rps, r.p50ms, r.p99ms, r.cpuUs, r.errors, r.rps / off.rps, r.rps / rows[0]!.rps]),
      ) +
      '\n\n' +
      table(
        ['target', 'measured', 'goal', 'met'],
        [1, 2].flatMap((n) => {
          const [f, o] = n === 1 ? [four, off] : [four2, off2];
          const how = n === 1 ? 'one process' : '2 listener processes';
          const shown = (r: { mid: number; lo: number; hi: number }, unit: string): string =>
            `${r.mid.toFixed(2)}${unit} (rounds ${r.lo.toFixed(2)}–${r.hi.toFixed(2)})`;
          const vsOff = perRound(f.name, o.name, (x) => x.rps, false);
          const p99 = perRound(f.name, o.name, (x) => x.p99ms, true);
          const rows: string[][] = [
            [`four logs vs logging off (req/s), ${how}`, shown(vsOff, '×'), '≥ 0.90×', vsOff.mid >= 0.9 ? 'yes' : 'no'],
            [`p99 added by logging, ${how}`, shown(p99, ' ms'), '≤ 1 ms', p99.mid <= 1 ? 'yes' : 'no'],
          ];
          if (caddy) {
            const vsCaddy = perRound(f.name, caddy.name, (x) => x.rps, false);
            rows.push([`four logs vs Caddy JSON log (req/s), ${how}`, shown(vsCaddy, '×'), '≥ 1.20×', vsCaddy.mid >= 1.2 ? 'yes' : 'no']);
          } else {
            rows.push([`four logs vs Caddy JSON log, ${how}`, 'caddy not installed', '≥ 1.20×', 'n/a']);
          }
          if (n === 1) {
            const store = perRound(WITH_STORE, f.name, (x) => x.rps, false);
            rows.push(['four logs and the exchange store vs four logs (req/s)', shown(store, '×'), '≥ 0.90×', store.mid >= 0.9 ? 'yes' : 'no']);
          }
          return rows;
        }),
      ) +
      `\n\n${loadTool()} -c${opts.connections}, ${opts.rounds} interleaved rounds of ${opts.seconds}s each; first table: medians; targets: ` +
      `median of the per-round ratios (or differences), with their range; upstream: ${upstream.label}.`;
    return { rows, notes, markdown: md };
  } finally {
    for (const c of contestants) await c.proc?.stop();
    await upstream?.proc.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const r = await benchProxy({ seconds: Number(process.env.BENCH_SECONDS ?? 5), rounds: Number(process.env.BENCH_ROUNDS ?? 7), connections: 50 });
  console.log(r.markdown);
  for (const n of r.notes) console.log(`- ${n}`);
}
