import { OptionError } from '../core/module-options.js';
import type { Encoder, EncoderContext, EncoderModule, EncoderOptions } from './encoder.js';

const modules = new Map<string, EncoderModule<unknown>>();

/** Called once by each encoder module at import (src/modules.ts imports them): the pipeline never changes. */
export function registerEncoder<S>(module: EncoderModule<S>): void {
  if (modules.has(module.name)) throw new Error(`encoder "${module.name}" registered twice`);
  modules.set(module.name, module as EncoderModule<unknown>);
}

/** Every registered module, in registration order: config.schema.json must list exactly these (a test holds it). */
export function encoderModules(): ReadonlyArray<EncoderModule<unknown>> {
  return [...modules.values()];
}

/** A format's module with its checked settings: what a log, or a wrapping encoder (filter), builds from. */
export interface EncoderPlan {
  readonly module: EncoderModule<unknown>;
  readonly settings: unknown;
}

/** Checks the options by their module's settings(); throws an OptionError naming the key when they are bad. */
export function encoderPlan(options: EncoderOptions): EncoderPlan {
  const module = modules.get(options.format);
  if (!module) throw new OptionError(['format'], `unknown encoder format "${options.format}" (known: ${[...modules.keys()].join(', ')})`);
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
