import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { request } from 'undici';
import { describe, expect, it } from 'vitest';
import { undoAfterEach } from '../helpers/cleanup.js';
import { parseConfigText } from '../../src/config/load.js';
import { LogSender, RemotePipeline } from '../../src/handover/remote-pipeline.js';
import { Kflog } from '../../src/kflog.js';
import { accessEntry } from '../helpers/entries.js';
import { readLines, tempDir } from '../helpers/files.js';

/** The log thread (logging.thread, on by default) behind the real proxy: files really written, counts exact. */

const undo = undoAfterEach();

function config(dir: string, extra: Record<string, unknown> = {}): string {
  const file = (name: string): object => ({ output: 'file', filename: join(dir, name) });
  return JSON.stringify({
    forwards: [{ id: 't', listen: '127.0.0.1:0', target: { builtin: 'echo' } }],
    logging: {
      logs: {
        default: { include: ['kflog'], writer: file('kflog.log'), encoder: { format: 'json' } },
        json: { include: ['http.log.access'], writer: file('access.json'), encoder: { format: 'json' } },
        clf: { include: ['http.log.access'], writer: file('access.clf'), encoder: { format: 'clf' } },
        kftray: { include: ['http.log'], writer: file('kftray.log'), encoder: { format: 'kftray' } },
      },
      ...extra,
    },
  });
}

function scratch(): string {
  const t = tempDir('thread');
  undo.push(async () => t.cleanup());
  return t.dir;
}

async function start(text: string): Promise<Kflog> {
  const app = await Kflog.start(parseConfigText(text, 'test config'));
  undo.push(() => app.stop(1000));
  return app;
}

/** `count` requests, `concurrency` at a time; every one must be answered 200. */
async function load(app: Kflog, count: number, concurrency: number, tag: string): Promise<void> {
  const origin = 'http://' + app.address('t');
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        const n = next++;
        const res = await request(`${origin}/api/users?${tag}=${n}`);
        await res.body.text();
        expect(res.statusCode).toBe(200);
      }
    }),
  );
}

describe('the log thread', () => {
  it('writes every exchange of a concurrent load once to each file, and its counts say so exactly', async () => {
    const dir = scratch();
    const app = await start(config(dir));
    await load(app, 400, 20, 'n');
    const stats = await app.stop();

    const json = readLines(join(dir, 'access.json')).map((l) => JSON.parse(l) as { trace_id: string; request: { uri: string } });
    expect(json).toHaveLength(400);
    expect(new Set(json.map((e) => e.request.uri)).size).toBe(400);
    expect(readLines(join(dir, 'access.clf'))).toHaveLength(400);
    // kftray shows each request when it is in and again with its response, under one trace ID.
    const traces = readFileSync(join(dir, 'kftray.log'), 'utf8').match(/^Trace ID: .+$/gm) ?? [];
    expect(traces).toHaveLength(800);
    expect(new Set(traces).size).toBe(400);
    for (const name of ['json', 'clf']) {
      expect(stats.find((s) => s.name === name)).toMatchObject({ written: 400, dropped: 0, failed: 0 });
    }
    expect(stats.find((s) => s.name === 'kftray')).toMatchObject({ written: 800, dropped: 0, failed: 0 });
    // kflog's own messages travel the same way.
    expect(readLines(join(dir, 'kflog.log')).some((l) => (JSON.parse(l) as { msg: string }).msg === 'listening')).toBe(true);
  });

  it('gives exact counts after flush, while the proxy keeps running', async () => {
    const dir = scratch();
    const app = await start(config(dir));
    await load(app, 50, 5, 'n');
    await app.pipeline.flush();
    expect(app.pipeline.stats().find((s) => s.name === 'json')).toMatchObject({ written: 50, dropped: 0, failed: 0 });
    expect(readLines(join(dir, 'access.json'))).toHaveLength(50);
  });

  it('keeps the files open across a reload and logs every exchange once, by the config that saw it begin', async () => {
    const dir = scratch();
    const text = config(dir);
    const app = await start(text);
    await load(app, 60, 6, 'before');
    await app.reload(parseConfigText(text, 'reloaded'));
    await load(app, 60, 6, 'after');
    const stats = await app.stop();
    const uris = readLines(join(dir, 'access.json')).map((l) => (JSON.parse(l) as { request: { uri: string } }).request.uri);
    expect(uris).toHaveLength(120);
    expect(new Set(uris).size).toBe(120);
    expect(stats.find((s) => s.name === 'json')).toMatchObject({ written: 120, dropped: 0, failed: 0 });
  });

  it('with logging.thread false writes the same lines on the proxy\'s own thread', async () => {
    const dir = scratch();
    const app = await start(config(dir, { thread: false }));
    await load(app, 30, 3, 'n');
    const stats = await app.stop();
    expect(readLines(join(dir, 'access.clf'))).toHaveLength(30);
    expect(stats.find((s) => s.name === 'clf')).toMatchObject({ written: 30, dropped: 0, failed: 0 });
  });

  it('counts entries as failed, never silently lost, once its thread is gone', async () => {
    const dir = scratch();
    const thread = new LogSender();
    const cfg = parseConfigText(config(dir), 'test config');
    const pipeline = new RemotePipeline(cfg.logs, thread);
    await pipeline.ready();
    for (let i = 0; i < 5; i++) pipeline.emit(accessEntry({ logger: 'http.log.access.t' }));
    await pipeline.flush();
    await thread.stop();
    for (let i = 0; i < 3; i++) pipeline.emit(accessEntry({ logger: 'http.log.access.t' }));
    expect(pipeline.stats().find((s) => s.name === 'json')).toMatchObject({ written: 5, dropped: 0, failed: 3 });
    expect(readLines(join(dir, 'access.json'))).toHaveLength(5);
  });
});
