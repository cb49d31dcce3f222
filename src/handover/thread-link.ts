import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { LogLink, LogLinkEvents } from './log-link.js';
import type { FromLogSide, LogThreadData, ToLogSide } from './log-protocol.js';

/** The log thread's script: next to this module when built; from dist/ when the sources run untranspiled (tests). */
function threadScript(): URL {
  const beside = new URL('./log-thread.js', import.meta.url);
  if (existsSync(fileURLToPath(beside))) return beside;
  return new URL('../../dist/src/handover/log-thread.js', import.meta.url);
}

/**
 * The log thread's young generation is capped: encoding captured bodies makes short-lived strings at hundreds of
 * MB/s under load, and V8 lets the young generation grow to fit, all of it resident. At 16 MB the overload bench
 * (bench/overload.ts) peaked at 431–432 MiB RSS against 465–469 MiB uncapped, serving as many exchanges (two
 * 20 s runs each, side by side). The old generation is left to V8: a cap there kills the thread when reached.
 */
const LOG_THREAD_LIMITS = { maxYoungGenerationSizeMb: 16 } as const;

/**
 * The log side on a worker thread of this process. Batches are transferred, not copied; what the thread has
 * finished with is read from a shared counter, so bounding the bytes in flight costs no message.
 */
export class WorkerThreadLink implements LogLink {
  readonly name = 'log thread';
  readonly batchDelayMs = 5;
  private worker: Worker | undefined;
  private readonly counter = new BigInt64Array(new SharedArrayBuffer(8));
  private exited: Promise<void> = Promise.resolve();

  start(events: LogLinkEvents): void {
    const data: LogThreadData = { consumed: this.counter.buffer as SharedArrayBuffer };
    const worker = new Worker(threadScript(), { workerData: data, stdout: false, stderr: false, resourceLimits: LOG_THREAD_LIMITS });
    this.worker = worker;
    worker.unref();
    worker.on('message', (msg: FromLogSide) => events.message(msg));
    worker.on('error', (err) => events.died(err));
    this.exited = new Promise((resolve) => worker.once('exit', () => resolve()));
    worker.once('exit', (code) => events.died(new Error(`log thread exited with code ${code}`)));
  }

  post(msg: ToLogSide, transfer?: ArrayBuffer[]): void {
    this.worker!.postMessage(msg, transfer);
  }

  consumed(): number {
    return Number(Atomics.load(this.counter, 0));
  }

  ref(): void {
    this.worker?.ref();
  }

  unref(): void {
    this.worker?.unref();
  }

  async stop(): Promise<void> {
    await this.worker?.terminate();
    await this.exited;
  }
}
