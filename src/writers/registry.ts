import type { Writer, WriterFactory, WriterOptions } from './writer.js';

const factories = new Map<string, WriterFactory>();

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
