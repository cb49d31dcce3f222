import { write as fsWrite } from 'node:fs';
import { isatty } from 'node:tty';
import { isMainThread } from 'node:worker_threads';
import { registerWriter } from './registry.js';
import type { Writer, WriterModule } from './writer.js';

/** How long to wait before trying again when a non-blocking stdout pipe is full. */
const EAGAIN_RETRY_MS = 1;

/**
 * stdout or stderr. kflog's own messages default to stderr, so `kflog run | jq` sees only what a log sends here.
 *
 * On the main thread it writes through process.stdout/stderr. On the log thread those are only relays through
 * the main thread (whose own work they would then add to, and which drops what is still relayed at exit), so
 * there it writes the file descriptor itself.
 */
export class StdioWriter implements Writer {
  readonly key: string;
  readonly description: string;
  readonly isTTY: boolean;

  constructor(private readonly fd: 1 | 2) {
    this.key = fd === 1 ? 'stdout' : 'stderr';
    this.description = this.key;
    this.isTTY = isatty(fd);
  }

  async open(): Promise<void> {}

  write(batch: string | Buffer): Promise<void> {
    if (isMainThread) {
      const stream = this.fd === 1 ? process.stdout : process.stderr;
      // The write's callback gets the error and the queue reports it; without a listener the stream's own
      // 'error' event (EPIPE once `| head -1` has exited) would throw and take the proxy down with it.
      if (stream.listenerCount('error') === 0) stream.on('error', ignoreStreamError);
      return new Promise((resolve, reject) => {
        stream.write(batch, (err) => (err ? reject(err) : resolve()));
      });
    }
    return writeAll(this.fd, typeof batch === 'string' ? Buffer.from(batch) : batch);
  }

  async close(): Promise<void> {}
}

function ignoreStreamError(): void {}

function writeAll(fd: number, buf: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const next = (offset: number): void => {
      fsWrite(fd, buf, offset, buf.length - offset, null, (err, n) => {
        if (err && err.code === 'EAGAIN') setTimeout(next, EAGAIN_RETRY_MS, offset);
        else if (err) reject(err);
        else if (offset + n < buf.length) next(offset + n);
        else resolve();
      });
    };
    next(0);
  });
}

/** stdout and stderr take no options. */
export const stdoutWriter: WriterModule<null> = { name: 'stdout', defaults: {}, settings: () => null, create: () => new StdioWriter(1) };
export const stderrWriter: WriterModule<null> = { name: 'stderr', defaults: {}, settings: () => null, create: () => new StdioWriter(2) };

registerWriter(stdoutWriter);
registerWriter(stderrWriter);
