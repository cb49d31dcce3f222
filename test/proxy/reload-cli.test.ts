import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { get } from 'node:http';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { until } from './helpers.js';

const ROOT = join(import.meta.dirname, '..', '..');
const CLI = join(ROOT, 'dist', 'src', 'cli.js');

/** The test drives the real `kflog run` process: build it when dist/ is missing or older than the sources. */
function ensureBuilt(): void {
  const newest = (dir: string): number =>
    Math.max(0, ...readdirSync(dir, { withFileTypes: true }).map((d) =>
      d.isDirectory() ? newest(join(dir, d.name)) : statSync(join(dir, d.name)).mtimeMs));
  if (existsSync(CLI) && statSync(CLI).mtimeMs >= newest(join(ROOT, 'src'))) return;
  const r = spawnSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', ROOT], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`build failed:\n${r.stdout}${r.stderr}`);
}

interface Running {
  child: ChildProcess;
  stderr: () => string;
  port: number;
}

async function runKflog(configPath: string): Promise<Running> {
  const child = spawn(process.execPath, [CLI, 'run', '--config', configPath], { stdio: ['ignore', 'ignore', 'pipe'] });
  children.push(child);
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  await until(() => /curl -i http:\/\/127\.0\.0\.1:(\d+)/.test(err) || child.exitCode !== null, 20_000, () => `kflog to listen; stderr: ${err}`);
  const m = /curl -i http:\/\/127\.0\.0\.1:(\d+)/.exec(err);
  if (!m) throw new Error(`kflog did not start: ${err}`);
  return { child, stderr: () => err, port: Number(m[1]) };
}

/** One GET on a connection of its own (no agent, no keep-alive). */
function getOnNewConnection(port: number, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = get({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', reject);
    });
    req.on('error', reject);
  });
}

function count(text: string, what: string): number {
  return text.split(what).length - 1;
}

let dir: string;
const children: ChildProcess[] = [];
afterEach(() => {
  // A failed test must not leave its kflog running.
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});
beforeAll(() => {
  ensureBuilt();
  dir = mkdtempSync(join(tmpdir(), 'kflog-reload-cli-'));
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Config variants differing in what a reload must apply without disturbing traffic. */
function config(variant: number): string {
  const access = { include: ['http.log.access'], writer: { output: 'file', filename: join(dir, 'access.log') }, encoder: { format: 'json' } };
  const logs: Record<string, unknown> = { default: { writer: { output: 'discard' } }, access };
  if (variant % 2 === 1) {
    logs.requests = { include: ['http.log.request'], writer: { output: 'file', filename: join(dir, `requests-${variant}.log`) }, encoder: { format: 'json' } };
  }
  return JSON.stringify({
    forwards: [{
      id: 'api', listen: '127.0.0.1:0', target: { builtin: 'echo' },
      capture: { request_body: variant % 2 === 1, response_body: variant % 2 === 1, max_body_bytes: 1024 * (variant + 1) },
    }],
    logging: { logs },
  });
}

describe('kflog run: SIGHUP', () => {
  it('reloading three times under load refuses nothing, fails nothing, and logs every response exactly once', async () => {
    const cfgPath = join(dir, 'kflog.json');
    writeFileSync(cfgPath, config(0));
    const k = await runKflog(cfgPath);
    const total = 4000;
    let responses = 0;
    const reloads: Promise<void>[] = [];
    const instance = autocannon({ url: `http://127.0.0.1:${k.port}/api/users`, connections: 8, amount: total });
    // Beside autocannon's keep-alive connections, fresh connections all along: a listener that blinked during a
    // reload would refuse some. (autocannon's own reconnectRate miscounts responses, so it is not used.)
    let running = true;
    const fresh = { ok: 0, failed: [] as string[] };
    const freshLoops = [0, 1].map(async () => {
      while (running) {
        try {
          const status = await getOnNewConnection(k.port, '/api/users?fresh');
          if (status === 200) fresh.ok++;
          else fresh.failed.push(`status ${status}`);
        } catch (err) {
          fresh.failed.push((err as Error).message);
        }
      }
    });
    instance.on('response', () => {
      responses++;
      if (responses % 1000 === 0 && reloads.length < 3) {
        const n = reloads.length + 1;
        writeFileSync(cfgPath, config(n));
        const before = count(k.stderr(), 'SIGHUP: reloaded');
        k.child.kill('SIGHUP');
        reloads.push(until(() => count(k.stderr(), 'SIGHUP: reloaded') > before, 20_000, () => `reload ${n}: ${k.stderr()}`));
      }
    });
    const result = await instance;
    running = false;
    await Promise.all(freshLoops);
    await Promise.all(reloads);
    expect(fresh.failed).toEqual([]);
    expect(fresh.ok).toBeGreaterThan(0);
    expect(reloads).toHaveLength(3);
    expect(count(k.stderr(), 'SIGHUP: reloaded')).toBe(3);
    expect(result.errors).toBe(0);
    expect(result.timeouts).toBe(0);
    expect(result.non2xx).toBe(0);
    expect(result['2xx']).toBe(total);

    k.child.kill('SIGTERM');
    const [code] = (await once(k.child, 'exit')) as [number];
    expect(code).toBe(0);
    const lines = readFileSync(join(dir, 'access.log'), 'utf8').trim().split('\n');
    expect(lines).toHaveLength(total + fresh.ok);
    const entries = lines.map((l) => JSON.parse(l) as { trace_id: string; status: number; termination_state: string });
    expect(new Set(entries.map((e) => e.trace_id)).size).toBe(lines.length);
    expect(entries.every((e) => e.status === 200 && e.termination_state === '----')).toBe(true);
  }, 120_000);

  it('an invalid config on SIGHUP is reported and the running one keeps serving', async () => {
    const cfgPath = join(dir, 'kflog-invalid.json');
    writeFileSync(cfgPath, config(0));
    const k = await runKflog(cfgPath);
    writeFileSync(cfgPath, '{"forwards": [{"id": "api", "listen": "127.0.0.1:0", "target": {"url": "ftp://nope"}}], "bogus": 1}');
    k.child.kill('SIGHUP');
    await until(() => k.stderr().includes('keeping the running config'), 20_000, () => k.stderr());
    expect(k.stderr()).toMatch(/invalid config/);
    expect(k.stderr()).toMatch(/\/bogus: unknown key/);
    const res = await request(`http://127.0.0.1:${k.port}/api/users`);
    expect(res.statusCode).toBe(200);
    await res.body.dump();
    k.child.kill('SIGTERM');
    const [code] = (await once(k.child, 'exit')) as [number];
    expect(code).toBe(0);
  }, 60_000);
});
