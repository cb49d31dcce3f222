import { registerWriter } from './registry.js';
import type { Writer, WriterModule } from './writer.js';

/** Throws everything away: for benchmarks and for logs kept only for their counts. */
export class DiscardWriter implements Writer {
  readonly key = 'discard';
  readonly description = 'discard';
  readonly isTTY = false;
  async open(): Promise<void> {}
  async write(): Promise<void> {}
  async close(): Promise<void> {}
}

export const discardWriter: WriterModule<null> = { name: 'discard', defaults: {}, settings: () => null, create: () => new DiscardWriter() };

registerWriter(discardWriter);
