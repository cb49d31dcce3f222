import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { tempDir } from '../helpers/files.js';
import { getOnNewConnection } from '../helpers/http.js';
import { ensureBuilt, KflogProcess, writeConfig } from '../helpers/kflog-process.js';

/** `kflog run --config <path>` once it says where to send requests (its port). */
async function runKflog(configPath: string): Promise<{ proc: KflogProcess; port: number }> {
  const proc = new KflogProcess(['run', '--config', configPath]);
  procs.push(proc);
  const port = await proc.waitFor(() => /curl -i http:\/\/127\.0\.0\.1:(\d+)/.exec(proc.stderr)?.[1], 'kflog to listen', 20_000);
  return { proc, port: Number(port) };
}

function count(text: string, what: string): number {
  return text.split(what).length - 1;
}

let dir: string;
const procs: KflogProcess[] = [];
afterEach(async () => {
  // A failed test must not leave its kflog running.
  for (const p of procs.splice(0)) await p.stop('SIGKILL');
});
beforeAll(() => {
  ensureBuilt();
  dir = tempDir('reload-cli').dir;
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
    const cfgPath = writeConfig(dir, config(0));
    const k = await runKflog(cfgPath);
    const total = 4000;
    let responses = 0;
    const reloads: Array<Promise<unknown>> = [];
    const instance = autocannon({ url: `http://127.0.0.1:${k.port}/api/users`, connections: 8, amount: total });
    // Beside autocannon's keep-alive connections, fresh connections all along: a listener that blinked during a
    // reload would refuse some. (autocannon's own reconnectRate miscounts responses, so it is not used.)
    let running = true;
    const fresh = { ok: 0, failed: [] as string[] };
    const freshLoops = [0, 1].map(async () => {
      while (running) {
        try {
          const status = await getOnNewConnection(`127.0.0.1:${k.port}`, '/api/users?fresh');
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
        writeConfig(dir, config(n));
        const before = count(k.proc.stderr, 'SIGHUP: reloaded');
        k.proc.child.kill('SIGHUP');
        reloads.push(k.proc.waitFor(() => count(k.proc.stderr, 'SIGHUP: reloaded') > before, `reload ${n}`, 20_000));
      }
    });
    const result = await instance;
    running = false;
    await Promise.all(freshLoops);
    await Promise.all(reloads);
    expect(fresh.failed).toEqual([]);
    expect(fresh.ok).toBeGreaterThan(0);
    expect(reloads).toHaveLength(3);
    expect(count(k.proc.stderr, 'SIGHUP: reloaded')).toBe(3);
    expect(result.errors).toBe(0);
    expect(result.timeouts).toBe(0);
    expect(result.non2xx).toBe(0);
    expect(result['2xx']).toBe(total);

    const { code } = await k.proc.stop('SIGTERM');
    expect(code).toBe(0);
    const lines = readFileSync(join(dir, 'access.log'), 'utf8').trim().split('\n');
    expect(lines).toHaveLength(total + fresh.ok);
    const entries = lines.map((l) => JSON.parse(l) as { trace_id: string; status: number; termination_state: string });
    expect(new Set(entries.map((e) => e.trace_id)).size).toBe(lines.length);
    expect(entries.every((e) => e.status === 200 && e.termination_state === '----')).toBe(true);
  }, 120_000);

  it('an invalid config on SIGHUP is reported and the running one keeps serving', async () => {
    const cfgPath = writeConfig(dir, config(0), 'kflog-invalid.json');
    const k = await runKflog(cfgPath);
    writeConfig(dir, '{"forwards": [{"id": "api", "listen": "127.0.0.1:0", "target": {"url": "ftp://nope"}}], "bogus": 1}', 'kflog-invalid.json');
    k.proc.child.kill('SIGHUP');
    await k.proc.waitFor(() => k.proc.stderr.includes('keeping the running config'), 'the refusal', 20_000);
    expect(k.proc.stderr).toMatch(/invalid config/);
    expect(k.proc.stderr).toMatch(/\/bogus: unknown key/);
    const res = await request(`http://127.0.0.1:${k.port}/api/users`);
    expect(res.statusCode).toBe(200);
    await res.body.dump();
    const { code } = await k.proc.stop('SIGTERM');
    expect(code).toBe(0);
  }, 60_000);
});
