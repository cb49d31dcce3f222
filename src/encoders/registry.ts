import type { Encoder, EncoderContext, EncoderFactory, EncoderOptions } from './encoder.js';

const factories = new Map<string, EncoderFactory>();
const fileHeaders = new Map<string, FileHeader>();

/** Text a file written in this format must begin with (REST Client's variable declarations), or undefined. */
export type FileHeader = (options: EncoderOptions) => string | undefined;

/** Called once by each encoder module at import: adding a format never touches the pipeline. */
export function registerEncoder(format: string, factory: EncoderFactory, extras: { fileHeader?: FileHeader } = {}): void {
  if (factories.has(format)) throw new Error(`encoder "${format}" registered twice`);
  factories.set(format, factory);
  if (extras.fileHeader) fileHeaders.set(format, extras.fileHeader);
}

/** What a file in this format begins with, written by the file writer into each file it starts. */
export function encoderFileHeader(options: EncoderOptions): string | undefined {
  return fileHeaders.get(options.format)?.(options);
}

export function createEncoder(options: EncoderOptions, ctx: EncoderContext): Encoder {
  const factory = factories.get(options.format);
  if (!factory) throw new Error(`unknown encoder format "${options.format}" (known: ${[...factories.keys()].join(', ')})`);
  return factory(options, ctx);
}

/** The registered format names: config.schema.json's `format` enum must equal them (a test holds it to that). */
export function encoderFormats(): string[] {
  return [...factories.keys()];
}
