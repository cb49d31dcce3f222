import type { Encoder, EncoderContext, EncoderFactory, EncoderOptions } from './encoder.js';

const factories = new Map<string, EncoderFactory>();

/** Called once by each encoder module at import: adding a format never touches the pipeline. */
export function registerEncoder(format: string, factory: EncoderFactory): void {
  if (factories.has(format)) throw new Error(`encoder "${format}" registered twice`);
  factories.set(format, factory);
}

export function createEncoder(options: EncoderOptions, ctx: EncoderContext): Encoder {
  const factory = factories.get(options.format);
  if (!factory) throw new Error(`unknown encoder format "${options.format}" (known: ${[...factories.keys()].join(', ')})`);
  return factory(options, ctx);
}

export function encoderFormats(): string[] {
  return [...factories.keys()];
}
