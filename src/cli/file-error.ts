import { reporting } from './store-read.js';

/** A file given on the command line that cannot be read or written: one line naming it and why, exit 1. */
export class FileError extends Error {
  override name = 'FileError';
}

/** The reader of stdout went away (`kflog convert … | head`): the command stops there, quietly, exit 0. */
export class ReaderGone extends Error {
  override name = 'ReaderGone';
}

/** Why a file operation failed, in words, from node's error code. */
export function fileProblem(err: unknown): string {
  switch ((err as NodeJS.ErrnoException).code) {
    case 'ENOENT':
      return 'no such file or directory';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EISDIR':
      return 'it is a directory';
    case 'ENOSPC':
      return 'no space left on the device';
    default:
      return (err as Error).message;
  }
}

/** reporting() (flags exit 2, the store and config 1), a FileError as one line, exit 1, and ReaderGone quietly. */
export function reportingFiles(body: () => void): void {
  reporting(() => {
    try {
      body();
    } catch (err) {
      if (err instanceof ReaderGone) return;
      if (!(err instanceof FileError)) throw err;
      process.stderr.write(`kflog: ${err.message}\n`);
      process.exitCode = 1;
    }
  });
}
