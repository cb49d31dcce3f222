import { describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/wait.js';
import '../../src/modules.js';
import type { LogConfig } from '../../src/config/types.js';
import { Pipeline } from '../../src/emit/pipeline.js';
import { registerEncoder } from '../../src/encoders/registry.js';
import { registerWriter } from '../../src/writers/registry.js';
import type { Writer } from '../../src/writers/writer.js';

/** An in-memory writer whose writes can be held, to stand for a slow disk. */
class MemoryWriter implements Writer {
  static instances = new Map<string, MemoryWriter>();
  readonly description: string;
  readonly isTTY = false;
  chunks: string[] = [];
  hold: Promise<void> | undefined;
  constructor(readonly key: string) {
    this.description = key;
    // The pool builds a candidate per acquire and keeps the first one per key: so do we.
    if (!MemoryWriter.instances.has(key)) MemoryWriter.instances.set(key, this);
  }
  async open(): Promise<void> {}
  async write(batch: string | Buffer): Promise<void> {
    if (this.hold) await this.hold;
    this.chunks.push(batch.toString());
  }
  async close(): Promise<void> {}
  lines(): string[] {
    return this.chunks.join('').split('\n').filter(Boolean);
  }
}
registerWriter({ name: 'memory-test', defaults: {}, settings: (o) => `memory:${String(o.name)}`, create: (key) => new MemoryWriter(key) });

function log(name: string, extra: Partial<LogConfig> = {}): LogConfig {
  return {
    name,
    writer: { output: 'memory-test', name },
    encoder: { format: 'json' },
    level: 'info',
    include: [],
    exclude: [],
    logCredentials: false,
    queueBytes: 1 << 20,
    outputDeadlineMs: 5000,
    ...extra,
  };
}

describe('the pipeline', () => {
  it('delivers an entry to every log that admits it', async () => {
    const p = new Pipeline([log('p1'), log('p2', { include: ['kflog'] }), log('p3', { exclude: ['kflog'] })]);
    p.logger('kflog').info('hello');
    await p.flush();
    expect(MemoryWriter.instances.get('memory:p1')!.lines()).toHaveLength(1);
    expect(MemoryWriter.instances.get('memory:p2')!.lines()).toHaveLength(1);
    expect(MemoryWriter.instances.get('memory:p3')!.lines()).toHaveLength(0);
    await p.close();
  });

  it('drops entries below a log\'s level', async () => {
    const p = new Pipeline([log('lv', { level: 'warn' })]);
    p.logger('kflog').info('quiet');
    p.logger('kflog').warn('loud');
    p.logger('kflog').error('louder');
    await p.flush();
    expect(MemoryWriter.instances.get('memory:lv')!.lines().map((l) => JSON.parse(l).msg)).toEqual(['loud', 'louder']);
    await p.close();
  });

  it('counts what sampling kept out, and reports it in stats', async () => {
    const p = new Pipeline([log('sm', { sampling: { intervalMs: 60_000, first: 2, thereafter: 5 } })]);
    for (let i = 0; i < 12; i++) p.logger('kflog').info('same');
    await p.flush();
    // kept: n = 1, 2, 7, 12
    expect(MemoryWriter.instances.get('memory:sm')!.lines()).toHaveLength(4);
    expect(p.stats()[0]).toMatchObject({ name: 'sm', written: 4, sampledOut: 8, dropped: 0 });
    await p.close();
  });

  it('drops and counts entries when a slow writer lets the queue fill, without blocking emit', async () => {
    const p = new Pipeline([log('slow', { queueBytes: 2048 })]);
    const w = MemoryWriter.instances.get('memory:slow')!;
    let release: () => void = () => undefined;
    w.hold = new Promise((r) => (release = r));
    for (let i = 0; i < 200; i++) p.logger('kflog').info('entry', { i });
    const s = p.stats()[0]!;
    expect(s.dropped).toBeGreaterThan(0);
    release();
    await p.flush();
    const after = p.stats()[0]!;
    expect(after.written + after.dropped).toBe(200);
    expect(w.lines()).toHaveLength(after.written);
    await p.close();
  });

  it('drops without encoding while the queue has less room than the last entry took', async () => {
    let encoded = 0;
    registerEncoder({
      name: 'counting-test',
      defaults: {},
      settings: () => undefined,
      create: () => ({
        encode: (entry) => {
          encoded++;
          return `${entry.msg} ${'x'.repeat(1000)}\n`;
        },
      }),
    });
    const p = new Pipeline([log('counted', { queueBytes: 10_000, encoder: { format: 'counting-test' } })]);
    const w = MemoryWriter.instances.get('memory:counted')!;
    let release: () => void = () => undefined;
    w.hold = new Promise((r) => (release = r));
    for (let i = 0; i < 200; i++) p.logger('kflog').info('entry', { i });
    const s = p.stats()[0]!;
    // About ten fit the bound; the rest were refused before the encoder ran, and counted.
    expect(s.dropped).toBeGreaterThan(180);
    expect(encoded).toBeLessThan(20);
    release();
    await p.flush();
    const after = p.stats()[0]!;
    expect(after.written + after.dropped).toBe(200);
    expect(w.lines()).toHaveLength(after.written);
    await p.close();
  });

  it('counts a write given up on at its deadline as failed, and as written once it lands after all', async () => {
    // Not kflog's own logger: its report of the stuck write would be a fourth entry in the same log.
    const p = new Pipeline([log('late', { outputDeadlineMs: 50, include: ['app'] })]);
    const w = MemoryWriter.instances.get('memory:late')!;
    let release: () => void = () => undefined;
    w.hold = new Promise((r) => (release = r));
    for (let i = 0; i < 3; i++) p.logger('app').info('entry', { i });
    await waitFor('the write to outlive its deadline', () => p.stats()[0]!.failed === 3, 5000);
    expect(p.stats()[0]!.written).toBe(0);
    release();
    await waitFor('the late write to land', () => w.lines().length === 3, 5000);
    await waitFor('the count to follow the file', () => p.stats()[0]!.written === 3, 5000);
    expect(p.stats()[0]!.failed).toBe(0);
    await p.close();
  });

  it('shares one writer between two logs naming the same output', async () => {
    const p = new Pipeline([
      log('a', { writer: { output: 'memory-test', name: 'shared' } }),
      log('b', { writer: { output: 'memory-test', name: 'shared' } }),
    ]);
    p.logger('kflog').info('once');
    await p.flush();
    expect(MemoryWriter.instances.get('memory:shared')!.lines()).toHaveLength(2);
    await p.close();
  });
});
