import { registerWriter } from './registry.js';
import type { Writer } from './writer.js';

/** Throws everything away: for benchmarks and for logs kept only for their counts. */
export class DiscardWriter implements Writer {
  readonly key = 'discard';
  readonly description = 'discard';
  readonly isTTY = false;
  async open(): Promise<void> {}
  async write(): Promise<void> {}
  async close(): Promise<void> {}
}

registerWriter('discard', () => new DiscardWriter());
