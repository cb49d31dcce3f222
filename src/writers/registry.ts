import type { Writer, WriterFactory, WriterOptions } from './writer.js';

const factories = new Map<string, WriterFactory>();
const checks = new Map<string, WriterOptionsCheck>();

/** A writer option kflog run would refuse, named by its key so the config error can point at it. */
export class WriterOptionError extends Error {
  constructor(
    readonly key: string | undefined,
    message: string,
  ) {
    super(message);
    this.name = 'WriterOptionError';
  }
}

/** Judges options the schema cannot (a minimum, an address's syntax) without opening anything; throws when bad. */
export type WriterOptionsCheck = (options: WriterOptions) => void;

/**
 * Called by a writer module beside registerWriter: its own option rules, judged when the config is loaded, so
 * `kflog validate` and `kflog run` refuse the same configs before anything starts.
 */
export function registerWriterCheck(output: string, check: WriterOptionsCheck): void {
  if (checks.has(output)) throw new Error(`writer check "${output}" registered twice`);
  checks.set(output, check);
}

/** Throws (a WriterOptionError when the module names the key) when `output`'s module refuses the options. */
export function checkWriterOptions(options: WriterOptions): void {
  if (!factories.has(options.output)) {
    throw new WriterOptionError('output', `unknown writer output "${options.output}" (known: ${[...factories.keys()].join(', ')})`);
  }
  checks.get(options.output)?.(options);
}

/** Called once by each writer module at import: adding an output never touches the pipeline. */
export function registerWriter(output: string, factory: WriterFactory): void {
  if (factories.has(output)) throw new Error(`writer "${output}" registered twice`);
  factories.set(output, factory);
}

export function createWriter(options: WriterOptions): Writer {
  const factory = factories.get(options.output);
  if (!factory) throw new Error(`unknown writer output "${options.output}" (known: ${[...factories.keys()].join(', ')})`);
  return factory(options);
}

/** The registered output names: config.schema.json's `output` enum must equal them (a test holds it to that). */
export function writerOutputs(): string[] {
  return [...factories.keys()];
}
