import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { describe, expect, it } from 'vitest';
import { undoAfterEach } from '../helpers/cleanup.js';
import { startKflog } from '../helpers/kflog-process.js';
import { startUpstream } from '../helpers/upstream.js';

// The overload bench (bench/overload.ts) in small: real kflog, real files, clients POSTing 60 KB bodies with
// capture on. The bench holds the figures (a minute, five logs); this holds the bound and the accounting.

const BODY = Buffer.alloc(60 * 1024, 'x');
const FILES = ['json', 'kftray', 'clf'] as const;

/**
 * Resolves after `ms` of load (or between a shaped load's exchanges): the load's own timing, not a stand-in for
 * waiting on kflog.
 */
const run = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Answered {
  path: string;
  at: number;
}

/**
 * `clients` loops POSTing BODY until stopped; each answered exchange has a path of its own. With `gapMs` each
 * client waits that long between exchanges: a load shaped to stay within what kflog logs whole.
 */
function load(url: string, clients: number, gapMs = 0): { answered: Answered[]; errors: string[]; halt(): void; stop(): Promise<void> } {
  const agent = new Agent({ connections: clients });
  const answered: Answered[] = [];
  const errors: string[] = [];
  let running = true;
  let n = 0;
  const loops = Array.from({ length: clients }, async (_, c) => {
    while (running) {
      const path = `/load/${c}/${n++}`;
      try {
        const r = await request(url + path, { method: 'POST', body: BODY, dispatcher: agent, headers: { 'content-type': 'text/plain' } });
        await r.body.dump();
        answered.push({ path, at: Date.now() });
        if (gapMs > 0) await run(gapMs);
      } catch (err) {
        // After halt() kflog is being stopped: an exchange cut then was simply never answered.
        if (running) errors.push(`${path}: ${(err as Error).message}`);
      }
    }
  });
  return {
    answered,
    errors,
    halt: () => {
      running = false;
    },
    stop: async () => {
      running = false;
      await Promise.allSettled(loops);
      await agent.destroy();
    },
  };
}

function config(origin: string, queueBytes?: number): { forwards: Array<{ id: string } & Record<string, unknown>> } & Record<string, unknown> {
  const file = (name: string, encoder: Record<string, unknown>, include = ['http.log.access']): Record<string, unknown> => ({
    include, writer: { output: 'file', filename: `${name}.log` }, encoder, ...(queueBytes ? { queue_bytes: queueBytes } : {}),
  });
  return {
    forwards: [{ id: 'load', listen: '127.0.0.1:0', target: { url: origin }, capture: { request_body: true, response_body: true } }],
    logging: {
      logs: {
        // kflog's own messages only (startKflog reads "listening" there), not a line per exchange.
        default: { include: ['kflog'], writer: { output: 'stderr' } },
        json: file('json', { format: 'json' }),
        kftray: file('kftray', { format: 'kftray' }, ['http.log']),
        clf: file('clf', { format: 'clf', variant: 'combined' }),
      },
    },
  };
}

function records(name: string, text: string): number {
  return name === 'kftray' ? text.split('\n').filter((l) => /^-{40}$/.test(l)).length : text.split('\n').filter((l) => l !== '').length;
}

/** Peak resident set size of a process, bytes (Linux). */
function peakRss(pid: number): number {
  const kb = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return Number(kb) * 1024;
}


describe('kflog under a load of 60 KB bodies it cannot all log', () => {
  const cleanups = undoAfterEach();

  it('stays within its memory bound and accounts for every entry of every log as written, dropped or failed', async () => {
    const upstream = await startUpstream((req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}'));
    });
    cleanups.push(upstream.close);
    // Queues far smaller than the default, so this small load fills them: the drops must be counted too.
    const { proc, addresses, dir } = await startKflog(config(upstream.url, 512 * 1024));
    cleanups.push(() => proc.stop('SIGKILL'));
    const clients = load(`http://${addresses.load}`, 4);
    await run(2500);
    const rss = peakRss(proc.child.pid!);
    clients.halt();
    const { code } = await proc.stop('SIGTERM');
    await clients.stop();
    expect(code).toBe(0);
    expect(clients.errors).toEqual([]);
    expect(rss).toBeLessThan(400 * 1024 * 1024);

    const summary = proc.stderr.split('\n').find((l) => l.includes('exit summary'))!;
    const served = clients.answered.length;
    expect(served).toBeGreaterThan(20);
    for (const name of FILES) {
      const m = new RegExp(`log "${name}" written=(\\d+) sampled_out=(\\d+) dropped=(\\d+) failed=(\\d+)`).exec(summary);
      expect(m, summary).not.toBeNull();
      const [written, sampled, dropped, failed] = m!.slice(1).map(Number) as [number, number, number, number];
      // One access entry an exchange (kftray: the request entry too); a client's exchange cut by SIGTERM is
      // logged, though never answered.
      const emitted = name === 'kftray' ? 2 * served : served;
      expect(written + sampled + dropped + failed, name).toBeGreaterThanOrEqual(emitted);
      expect(written + sampled + dropped + failed, name).toBeLessThanOrEqual(emitted + 2 * 4);
      expect(written, name).toBe(records(name, readFileSync(join(dir, `${name}.log`), 'utf8')));
    }
  });

  // Under overload entries are dropped, and counted (the test above); what kill -9 must not take is what kflog
  // had taken. So this load is one kflog logs whole: 2 clients, each pausing 20 ms between exchanges (~100/s,
  // 6 MB/s of bodies a log, a tenth of what the log thread writes here).
  it('loses to kill -9 nothing that was answered more than a second before it', async () => {
    const upstream = await startUpstream((req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}'));
    });
    cleanups.push(upstream.close);
    const { proc, addresses, dir } = await startKflog(config(upstream.url));
    cleanups.push(() => proc.stop('SIGKILL'));
    const clients = load(`http://${addresses.load}`, 2, 20);
    await run(2500);
    const killedAt = Date.now();
    clients.halt();
    const { signal } = await proc.stop('SIGKILL');
    await clients.stop();
    expect(signal).toBe('SIGKILL');
    expect(clients.errors).toEqual([]);
    const before = clients.answered.filter((a) => a.at < killedAt - 1000);
    expect(before.length).toBeGreaterThan(10);
    // A drop would make a missing entry no crash loss; kflog's warning of it reaches stderr even while behind.
    expect(proc.stderr.split('\n').filter((l) => l.includes('entries dropped'))).toEqual([]);
    for (const name of FILES) {
      const text = readFileSync(join(dir, `${name}.log`), 'latin1');
      const inFile = new Set(text.match(/\/load\/\d+\/\d+/g));
      expect(before.filter((a) => !inFile.has(a.path)).map((a) => a.path), name).toEqual([]);
    }
  });
});
