import { closeSync, openSync, writeSync } from 'node:fs';
import { FileError, fileProblem } from './file-error.js';

/** Where a command writes its result: stdout, or the file of -o. */
export interface Output {
  write(text: string | Buffer): void;
  /** Closes the file (stdout stays open). */
  close(): void;
}

/**
 * Stdout, or `path` created or truncated, 0600 when created: an export holds the bodies the store kept, which
 * the store itself keeps 0600.
 */
export function openOutput(path: string | undefined): Output {
  if (path === undefined) return { write: (text) => void process.stdout.write(text), close: () => undefined };
  let fd: number;
  try {
    fd = openSync(path, 'w', 0o600);
  } catch (err) {
    throw new FileError(`cannot write ${path}: ${fileProblem(err)}`);
  }
  return {
    write(text) {
      try {
        const bytes = typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
        let off = 0;
        while (off < bytes.length) off += writeSync(fd, bytes, off);
      } catch (err) {
        throw new FileError(`cannot write ${path}: ${fileProblem(err)}`);
      }
    },
    close: () => closeSync(fd),
  };
}
