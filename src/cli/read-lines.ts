import { closeSync, openSync, readSync } from 'node:fs';
import { FileError, fileProblem } from './file-error.js';

/** Bytes read at a time: a log of any size is read in this much memory plus its longest line. */
const CHUNK_BYTES = 1 << 16;

/**
 * The lines of a file (LF or CRLF, UTF-8), read synchronously, chunk by chunk: a command reading a log never waits
 * on an await that could hang, and never holds the whole file. A last line without its LF is a line too. The file
 * is opened now, so a missing one is reported before anything else is done.
 */
export function linesOf(path: string): Iterable<string> {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    throw new FileError(`cannot read ${path}: ${fileProblem(err)}`);
  }
  return readLines(fd, path);
}

function* readLines(fd: number, path: string): Generator<string> {
  try {
    const chunk = Buffer.allocUnsafe(CHUNK_BYTES);
    let pending: Buffer[] = [];
    for (;;) {
      let n: number;
      try {
        n = readSync(fd, chunk, 0, CHUNK_BYTES, null);
      } catch (err) {
        throw new FileError(`cannot read ${path}: ${fileProblem(err)}`);
      }
      if (n === 0) break;
      let start = 0;
      for (let nl = chunk.indexOf(0x0a, 0); nl !== -1 && nl < n; nl = chunk.indexOf(0x0a, start)) {
        pending.push(chunk.subarray(start, nl));
        yield lineText(Buffer.concat(pending));
        pending = [];
        start = nl + 1;
      }
      // Copied: the chunk is reused by the next read.
      if (start < n) pending.push(Buffer.from(chunk.subarray(start, n)));
    }
    if (pending.length > 0) yield lineText(Buffer.concat(pending));
  } finally {
    closeSync(fd);
  }
}

function lineText(line: Buffer): string {
  const end = line.length > 0 && line[line.length - 1] === 0x0d ? line.length - 1 : line.length;
  return line.toString('utf8', 0, end);
}
