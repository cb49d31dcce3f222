import { createRequire } from 'node:module';

/**
 * How a rolled file log's files are named: pino-roll writes the configured `dir/name.log` as `dir/name.<n>.log`
 * (stem `dir/name`, extension `.log`), RolledFiles compresses a finished roll to `dir/name.<n>.log.gz` and keeps
 * the configured name as a symlink to the file being written.
 */
export interface RollNames {
  /** The configured path less its extension: the rolls are `<stem>.<n><ext>`, and `<stem>.<n><ext>.gz`. */
  stem: string;
  /** With its dot (".log"), or "" when pino-roll gives the rolls none. */
  ext: string;
}

type SanitizeFile = (file: string) => { file: string; extension: string | undefined };
let sanitizeFile: SanitizeFile | undefined;

/**
 * The split pino-roll itself makes (its sanitizeFile, which the stream calls on the configured path): at the last
 * dot of the name, unless one character follows it (then no extension at all), and ".log" for a name without a dot.
 * Taken from pino-roll rather than written again, so what reads the rolls (`kflog logs`) finds what it wrote.
 */
export function rollNames(path: string): RollNames {
  sanitizeFile ??= (createRequire(import.meta.url)('pino-roll/lib/utils') as { sanitizeFile: SanitizeFile }).sanitizeFile;
  const { file, extension } = sanitizeFile(path);
  return { stem: file, ext: extension ? '.' + extension : '' };
}
