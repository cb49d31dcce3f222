import { ModuleRegistry } from '../core/module-registry.js';
import type { Encoder, EncoderContext, EncoderModule, EncoderOptions } from './encoder.js';

const modules = new ModuleRegistry<EncoderModule<unknown>>('encoder', 'format');

export function registerEncoder<S>(module: EncoderModule<S>): void {
  modules.register(module as EncoderModule<unknown>);
}

export function encoderModules(): ReadonlyArray<EncoderModule<unknown>> {
  return modules.all();
}

/** A format's module with its checked settings: what a log, or a wrapping encoder (filter), builds from. */
export interface EncoderPlan {
  readonly module: EncoderModule<unknown>;
  readonly settings: unknown;
}

/** Checks the options by their module's settings(); throws an OptionError naming the key when they are bad. */
export function encoderPlan(options: EncoderOptions): EncoderPlan {
  const module = modules.named(options.format);
  return { module, settings: module.settings(options) };
}

export function createPlannedEncoder(plan: EncoderPlan, ctx: EncoderContext): Encoder {
  return plan.module.create(plan.settings, ctx);
}

export function createEncoder(options: EncoderOptions, ctx: EncoderContext): Encoder {
  return createPlannedEncoder(encoderPlan(options), ctx);
}

/** What a file in this format begins with, written by the file writer into each file it starts. */
export function encoderFileHeader(options: EncoderOptions): string | undefined {
  const { module, settings } = encoderPlan(options);
  return module.fileHeader?.(settings);
}
