import { ModuleRegistry } from '../core/module-registry.js';
import type { Writer, WriterModule, WriterOptions } from './writer.js';

const modules = new ModuleRegistry<WriterModule<unknown>>('writer', 'output');

export function registerWriter<S>(module: WriterModule<S>): void {
  modules.register(module as WriterModule<unknown>);
}

export function writerModules(): ReadonlyArray<WriterModule<unknown>> {
  return modules.all();
}

/** Runs the output's settings() without opening anything; throws an OptionError naming the key when refused. */
export function checkWriterOptions(options: WriterOptions): void {
  modules.named(options.output).settings(options);
}

/** The encoder format an output requires (WriterModule.encoder), or undefined when it takes any. */
export function requiredEncoder(output: string): string | undefined {
  return modules.find(output)?.encoder;
}

export function createWriter(options: WriterOptions): Writer {
  const module = modules.named(options.output);
  return module.create(module.settings(options));
}
