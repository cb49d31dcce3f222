import { parentPort, workerData } from 'node:worker_threads';
import '../modules.js';
import { WriterPool } from '../writers/pool.js';
import { LogServer } from './log-server.js';
import type { FromLogSide, LogThreadData, ToLogSide } from './log-protocol.js';

/**
 * The log thread: a LogServer for the proxy's thread, so encoding and writing take none of the proxy's time.
 * Writers are shared across the pipelines of successive configs through one pool, as on the proxy's thread.
 */

const port = parentPort!;
const consumed = new BigInt64Array((workerData as LogThreadData).consumed);
const server = new LogServer(
  (msg: FromLogSide, transfer?: ArrayBuffer[]) => port.postMessage(msg, transfer),
  new WriterPool(),
  (bytes) => Atomics.add(consumed, 0, BigInt(bytes)),
  { returnBatches: true },
);
port.on('message', (msg: ToLogSide) => server.handle(msg));
