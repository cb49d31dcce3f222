import type { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';
import sonicBoom from 'sonic-boom';
import { nextRollNumber } from './roll-number.js';

/**
 * The part of a SonicBoom stream the file writer relies on (its published types lack fd, file and Buffer writes).
 * Events: 'ready' after every (re)open, 'write' (bytes) per write(2), 'drain' when its buffer is empty,
 * 'error', 'close'.
 */
export interface FileStream extends EventEmitter {
  readonly fd: number;
  /** The file currently written (pino-roll changes it on every roll). */
  readonly file: string | null;
  readonly destroyed: boolean;
  write(data: Buffer): boolean;
  reopen(file?: string): void;
  end(): void;
  destroy(): void;
}

export interface RollSettings {
  /** Bytes; undefined = no size limit. */
  size?: number;
  /** "hourly", "daily" or milliseconds. */
  frequency?: 'hourly' | 'daily' | number;
}

/**
 * Buffer content mode (exact bytes, known lengths for accounting); one write(2) up to 1 MiB instead of
 * SonicBoom's 16 KiB default, which is sized for pipes, not files.
 */
const STREAM_OPTIONS = { contentMode: 'buffer', append: true, maxWrite: 1024 * 1024, minLength: 0 } as const;

/** A plain appending file. */
export function openPlainStream(path: string, mode: number): FileStream {
  return new sonicBoom.default({ ...STREAM_OPTIONS, dest: path, mode }) as unknown as FileStream;
}

/**
 * A file rolled by pino-roll: `dir/name.log` is written as `dir/name.<n>.log`, n growing with each roll. The
 * directory must exist (pino-roll's own mkdir, combined with its symlink, fails with ENOENT).
 */
export async function openRollingStream(path: string, mode: number, roll: RollSettings): Promise<FileStream> {
  // Loaded on first use: pino-roll brings date-fns, ~5 MB of heap in every thread that loads it, and most logs
  // never roll.
  const pinoRoll = loadPinoRoll();
  const stream = await pinoRoll({ ...STREAM_OPTIONS, file: path, mode, size: roll.size !== undefined ? roll.size + 'b' : undefined, frequency: roll.frequency });
  return stream as unknown as FileStream;
}

/** Resolves once the stream's file is open; rejects (and destroys the stream) when it cannot be. */
export function whenOpen(stream: FileStream): Promise<FileStream> {
  if (stream.fd >= 0) return Promise.resolve(stream);
  return new Promise((resolve, reject) => {
    const onReady = (): void => {
      stream.off('error', onError);
      resolve(stream);
    };
    const onError = (err: Error): void => {
      stream.off('ready', onReady);
      reject(err);
    };
    stream.once('ready', onReady);
    stream.once('error', onError);
  });
}

type PinoRoll = typeof import('pino-roll').default;
let pinoRollLoaded: PinoRoll | undefined;

/**
 * pino-roll with its start-number detection replaced by nextRollNumber: pino-roll 4 has no option for it, and takes
 * the helper out of its lib/utils module once, when it is first loaded, so the replacement goes in before that.
 * test/writers/roll-names.test.ts fails if a pino-roll upgrade stops honouring it.
 */
function loadPinoRoll(): PinoRoll {
  if (pinoRollLoaded) return pinoRollLoaded;
  const require = createRequire(import.meta.url);
  const utils = require('pino-roll/lib/utils') as { detectLastNumber: (file: string, time?: number | null, ext?: string) => Promise<number> };
  utils.detectLastNumber = (file, _time, ext) => nextRollNumber(file, ext);
  pinoRollLoaded = require('pino-roll') as PinoRoll;
  return pinoRollLoaded;
}
