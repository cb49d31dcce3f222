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
    const worker = new Worker(threadScript(), { workerData: data, stdout: false, stderr: false });
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
