import { closeSync, openSync, writeSync } from 'node:fs';
import { FileError, fileProblem, ReaderGone } from './file-error.js';

/** Where a command writes its result: stdout, or the file of -o. */
export interface Output {
  write(text: string): void;
  /** Writes what is buffered, and closes the file (stdout stays open). */
  close(): void;
}

/** Text gathered before one write: a log of a million lines is a few thousand writes, not a million. */
const BUFFER_CHARS = 1 << 16;

/** Gathers text and hands it to `flush` in pieces of about BUFFER_CHARS. */
function buffered(flush: (text: string) => void, done: () => void): Output {
  let pending = '';
  return {
    write(text) {
      pending += text;
      if (pending.length >= BUFFER_CHARS) {
        const out = pending;
        pending = '';
        flush(out);
      }
    },
    close() {
      try {
        if (pending !== '') flush(pending);
        pending = '';
      } finally {
        done();
      }
    },
  };
}

/**
 * Stdout. Its writes to a pipe are synchronous on Linux; when the reader has gone (`| head`), the failed write has
 * destroyed the stream, and the next write stops the command (ReaderGone) instead of converting the rest for no one.
 * The stream's own error event, which would otherwise end the process with a stack, is taken here.
 */
function stdoutOutput(): Output {
  const stdout = process.stdout;
  if (stdout.listenerCount('error') === 0) {
    stdout.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE') return;
      process.stderr.write(`kflog: cannot write stdout: ${fileProblem(err)}\n`);
      process.exitCode = 1;
    });
  }
  return buffered((text) => {
    if (stdout.destroyed) throw new ReaderGone();
    stdout.write(text);
  }, () => undefined);
}

/**
 * Stdout, or `path` created or truncated, 0600 when created: an export holds the bodies the store kept, which
 * the store itself keeps 0600.
 */
export function openOutput(path: string | undefined): Output {
  if (path === undefined) return stdoutOutput();
  let fd: number;
  try {
    fd = openSync(path, 'w', 0o600);
  } catch (err) {
    throw new FileError(`cannot write ${path}: ${fileProblem(err)}`);
  }
  return buffered(
    (text) => {
      try {
        const bytes = Buffer.from(text, 'utf8');
        let off = 0;
        while (off < bytes.length) off += writeSync(fd, bytes, off);
      } catch (err) {
        throw new FileError(`cannot write ${path}: ${fileProblem(err)}`);
      }
    },
    () => closeSync(fd),
  );
}
