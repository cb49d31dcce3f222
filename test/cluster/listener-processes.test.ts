import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readLines, tempDir } from '../helpers/files.js';
import { getOnNewConnection } from '../helpers/http.js';
import { KflogProcess, startKflog, writeConfig } from '../helpers/kflog-process.js';

async function getMany(address: string, n: number, concurrency = 8): Promise<number[]> {
  const statuses: number[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) statuses.push(await getOnNewConnection(address, `/api/users?i=${next++}`));
    }),
  );
  return statuses;
}

interface JsonEntry {
  logger: string;
  msg: string;
  trace_id?: string;
  upstream?: { address: string };
  forward?: string;
}

function pids(stderr: string): number[] {
  const m = /listener processes \(pids ([\d, ]+)\)/.exec(stderr);
  return m ? m[1]!.split(', ').map(Number) : [];
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Two listener processes, each forward to its own builtin echo, every http.log entry in one json file. */
function clusterConfig(extra: Record<string, unknown> = {}) {
  return {
    listener_processes: 2,
    forwards: [{ id: 'demo', listen: '127.0.0.1:0', target: { builtin: 'echo' } }],
    logging: {
      logs: {
        http: { include: ['http.log'], writer: { output: 'file', filename: 'http.json' }, encoder: { format: 'json' } },
      },
    },
    ...extra,
  };
}

let proc: KflogProcess | undefined;
let blocker: Server | undefined;
afterEach(async () => {
  await proc?.stop();
  proc = undefined;
  blocker?.close();
  blocker = undefined;
});

describe('listener_processes', () => {
  it('two listener processes share the port, and each exchange is logged once by the primary, request before access', async () => {
    const started = await startKflog(clusterConfig());
    proc = started.proc;
    const [p1, p2] = pids(proc.stderr);
    expect(p1 && p2 && p1 !== p2 && p1 !== proc.child.pid).toBeTruthy();
    expect(alive(p1!) && alive(p2!)).toBe(true);

    const statuses = await getMany(started.addresses.demo!, 60);
    expect(statuses).toEqual(Array(60).fill(200));

    const { code } = await proc.stop();
    expect(code).toBe(0);
    expect(alive(p1!) || alive(p2!)).toBe(false);

    const entries = readLines(join(started.dir, 'http.json')).map((l) => JSON.parse(l) as JsonEntry);
    const requests = entries.filter((e) => e.logger.startsWith('http.log.request'));
    const accesses = entries.filter((e) => e.logger.startsWith('http.log.access'));
    expect(requests).toHaveLength(60);
    expect(accesses).toHaveLength(60);
    const position = new Map(entries.map((e, i) => [`${e.logger.split('.')[2]} ${e.trace_id}`, i]));
    expect(new Set(accesses.map((e) => e.trace_id)).size).toBe(60);
    for (const a of accesses) expect(position.get(`request ${a.trace_id}`)!).toBeLessThan(position.get(`access ${a.trace_id}`)!);
    // Each listener process has its own builtin echo, on a port of its own: both served.
    expect(new Set(accesses.map((e) => e.upstream!.address)).size).toBe(2);
    expect(proc.stderr).toMatch(/exit summary: .*log "http" written=120 sampled_out=0 dropped=0 failed=0/);
  });

  it('a SIGTERM under load loses nothing: every answered request is logged, and the summary counts every line', async () => {
    const started = await startKflog(clusterConfig());
    proc = started.proc;
    const address = started.addresses.demo!;
    let answered = 0;
    let stop = false;
    const loops = Array.from({ length: 8 }, async () => {
      while (!stop) {
        try {
          if ((await getOnNewConnection(address, '/api/users')) === 200) answered++;
        } catch {
          stop = true; // refused or reset: kflog has stopped listening
        }
      }
    });
    await proc.waitFor(() => answered >= 200 || undefined, '200 answered requests', 30_000);
    const exited = proc.stop();
    stop = true;
    await Promise.all(loops);
    expect((await exited).code).toBe(0);

    const lines = readLines(join(started.dir, 'http.json'));
    const accesses = lines.filter((l) => l.includes('"logger":"http.log.access'));
    expect(accesses.length).toBeGreaterThanOrEqual(answered);
    const written = /log "http" written=(\d+) sampled_out=0 dropped=0 failed=0/.exec(proc.stderr);
    expect(written, proc.stderr).not.toBeNull();
    expect(Number(written![1])).toBe(lines.length);
  });

  it('a listener process that dies is replaced, and the port goes on serving', async () => {
    const started = await startKflog(clusterConfig());
    proc = started.proc;
    const [p1] = pids(proc.stderr);
    process.kill(p1!, 'SIGKILL');
    await proc.waitFor(() => /listener process 1 is back \(pid \d+\)/.test(proc!.stderr), 'the replacement');
    expect(proc.stderr).toMatch(new RegExp(`listener process 1 \\(pid ${p1}\\) exited \\(signal SIGKILL\\); starting another`));
    // The same, as an entry of the "kflog" logger through the configured logs (the default one is the console).
    await proc.waitFor(() => /WARN\s+kflog listener process exited, starting another listener=1 pid=\d+/.test(proc!.stderr), 'the log entry');
    await proc.waitFor(() => /INFO\s+kflog listener process replaced listener=1 pid=\d+/.test(proc!.stderr), 'the log entry');

    expect(await getMany(started.addresses.demo!, 20)).toEqual(Array(20).fill(200));
    const { code } = await proc.stop();
    expect(code).toBe(0);
    const accesses = readLines(join(started.dir, 'http.json')).filter((l) => l.includes('"http.log.access'));
    expect(accesses).toHaveLength(20);
  });

  it('a config a listener process cannot start stops them all, with the reason and exit 1', async () => {
    blocker = createServer();
    await new Promise<void>((r) => blocker!.listen(0, '127.0.0.1', () => r()));
    const port = (blocker.address() as { port: number }).port;
    const { dir } = tempDir();
    const path = writeConfig(dir, clusterConfig({ forwards: [{ id: 'demo', listen: `127.0.0.1:${port}`, target: { builtin: 'echo' } }] }));
    proc = new KflogProcess(['run', '--config', path], { cwd: dir });
    const { code } = await proc.exited;
    expect(code).toBe(1);
    expect(proc.stderr).toContain(`cannot listen on 127.0.0.1:${port} for forward "demo": address already in use`);
    expect(proc.stderr).not.toMatch(/\n\s+at /);
  });

  it('SIGHUP with an invalid config keeps every listener process serving, and the log says why', async () => {
    const started = await startKflog(clusterConfig());
    proc = started.proc;
    writeConfig(started.dir, clusterConfig({ shutdown_timeout: 'soon' }));
    proc.child.kill('SIGHUP');
    await proc.waitFor(() => /SIGHUP: invalid config [\s\S]*\/shutdown_timeout: must be a duration/.test(proc!.stderr), 'the complaint');
    await proc.waitFor(() => /ERROR\s+kflog reload failed, keeping the running config error=.*shutdown_timeout/.test(proc!.stderr), 'the log entry');
    expect(await getMany(started.addresses.demo!, 10)).toEqual(Array(10).fill(200));
    expect((await proc.stop()).code).toBe(0);
  });

  it('SIGHUP hands the new config to every listener process, and the new forward is served by both', async () => {
    const started = await startKflog(clusterConfig());
    proc = started.proc;
    const path = join(started.dir, 'kflog.json');
    const next = clusterConfig({
      forwards: [
        { id: 'demo', listen: '127.0.0.1:0', target: { builtin: 'echo' } },
        { id: 'more', listen: '127.0.0.1:0', target: { builtin: 'echo' } },
      ],
    });
    writeConfig(started.dir, next);
    proc.child.kill('SIGHUP');
    await proc.waitFor(() => /SIGHUP: reloaded config from .*: 2 forward\(s\); kept 1, added 1, removed 0/.test(proc!.stderr), 'the reload');
    const listening = await proc.listening(['more']);
    expect(path).toContain('kflog.json');

    expect(await getMany(listening.more!, 20)).toEqual(Array(20).fill(200));
    await proc.stop();
    const entries = readLines(join(started.dir, 'http.json')).map((l) => JSON.parse(l) as JsonEntry);
    const more = entries.filter((e) => e.logger === 'http.log.access.more');
    expect(more).toHaveLength(20);
    expect(new Set(more.map((e) => e.upstream!.address)).size).toBe(2);
    // One "reloaded" line for the cluster, not one per process.
    expect(proc.stderr.match(/SIGHUP: reloaded/g)).toHaveLength(1);
  });
});
