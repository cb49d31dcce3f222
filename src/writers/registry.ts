import { OptionError } from '../core/module-options.js';
import type { Writer, WriterModule, WriterOptions } from './writer.js';

const modules = new Map<string, WriterModule<unknown>>();

/** Called once by each writer module at import (src/modules.ts imports them): the pipeline never changes. */
export function registerWriter<S>(module: WriterModule<S>): void {
  if (modules.has(module.name)) throw new Error(`writer "${module.name}" registered twice`);
  modules.set(module.name, module as WriterModule<unknown>);
}

/** Every registered module, in registration order: config.schema.json must list exactly these (a test holds it). */
export function writerModules(): ReadonlyArray<WriterModule<unknown>> {
  return [...modules.values()];
}

function moduleOf(options: WriterOptions): WriterModule<unknown> {
  const module = modules.get(options.output);
  if (!module) throw new OptionError(['output'], `unknown writer output "${options.output}" (known: ${[...modules.keys()].join(', ')})`);
  return module;
}

/** Runs the output's settings() without opening anything; throws an OptionError naming the key when refused. */
export function checkWriterOptions(options: WriterOptions): void {
  moduleOf(options).settings(options);
}

/** The encoder format an output requires (WriterModule.encoder), or undefined when it takes any. */
export function requiredEncoder(output: string): string | undefined {
  return modules.get(output)?.encoder;
}

export function createWriter(options: WriterOptions): Writer {
  const module = moduleOf(options);
  return module.create(module.settings(options));
}
