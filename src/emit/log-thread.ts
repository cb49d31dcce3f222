import { parentPort, workerData } from 'node:worker_threads';
import '../encoders/index.js';
import '../writers/index.js';
import { WriterPool } from '../writers/pool.js';
import { EntryDecoder } from './codec.js';
import { Pipeline } from './pipeline.js';
import type { FromLogThread, LogThreadData, ToLogThread } from './thread-protocol.js';

/**
 * The log thread: decodes the entries the proxy's thread sends and runs them through the ordinary Pipeline
 * (encoders, queues, writers), so encoding and writing take none of the proxy's time. Writers are shared across
 * the pipelines of successive configs through one pool, as on the proxy's thread.
 */

/** Counts go back this often when they changed (writes settle, writers drop or recover, with or without new entries). */
const STATS_INTERVAL_MS = 100;

const port = parentPort!;
const consumed = new BigInt64Array((workerData as LogThreadData).consumed);
const pool = new WriterPool();
const pipelines = new Map<number, Pipeline>();
const decoder = new EntryDecoder();
/** The counts last sent, per pipeline, as one string to compare. */
const published = new Map<number, string>();

function post(msg: FromLogThread): void {
  port.postMessage(msg);
}

function publishStats(): void {
  for (const [pipe, p] of pipelines) {
    const stats = p.stats();
    const key = JSON.stringify(stats);
    if (published.get(pipe) === key) continue;
    published.set(pipe, key);
    post({ op: 'stats', pipe, stats });
  }
}
setInterval(publishStats, STATS_INTERVAL_MS).unref();

function deliver(pipe: number, entry: Parameters<Pipeline['emit']>[0]): void {
  const p = pipelines.get(pipe);
  // A pipeline is closed only after the proxy's thread stopped sending to it; nothing arrives for a closed one.
  if (p === undefined) return;
  p.emit(entry);
}

async function answer(id: number, work: () => Promise<Pipeline | undefined>): Promise<void> {
  try {
    const p = await work();
    post({ op: 'reply', id, stats: p?.stats() });
  } catch (err) {
    post({ op: 'reply', id, error: (err as Error).message });
  }
}

port.on('message', (msg: ToLogThread) => {
  switch (msg.op) {
    case 'entries': {
      const bytes = Buffer.from(msg.bytes.buffer, msg.bytes.byteOffset, msg.bytes.byteLength);
      decoder.decode(bytes, deliver);
      Atomics.add(consumed, 0, BigInt(bytes.length));
      return;
    }
    case 'open': {
      const p = new Pipeline(msg.logs, pool);
      pipelines.set(msg.pipe, p);
      void answer(msg.id, async () => {
        await p.ready();
        return p;
      });
      return;
    }
    case 'flush': {
      const p = pipelines.get(msg.pipe);
      void answer(msg.id, async () => {
        await p?.flush();
        return p;
      });
      return;
    }
    case 'close': {
      const p = pipelines.get(msg.pipe);
      void answer(msg.id, async () => {
        await p?.close();
        pipelines.delete(msg.pipe);
        published.delete(msg.pipe);
        return p;
      });
      return;
    }
    case 'reopen':
      void answer(msg.id, async () => {
        await pool.reopenAll();
        return undefined;
      });
      return;
  }
});

