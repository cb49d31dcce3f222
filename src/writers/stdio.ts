import { registerWriter } from './registry.js';
import type { Writer } from './writer.js';

/** stdout or stderr. kflog's own messages default to stderr, so `kflog run | jq` sees only what a log sends here. */
export class StdioWriter implements Writer {
  readonly key: string;
  readonly description: string;

  constructor(private readonly stream: NodeJS.WriteStream) {
    this.key = stream === process.stdout ? 'stdout' : 'stderr';
    this.description = this.key;
  }

  get isTTY(): boolean {
    return this.stream.isTTY === true;
  }

  async open(): Promise<void> {}

  write(batch: string | Buffer): Promise<void> {
    return new Promise((resolve, reject) => {
      this.stream.write(batch, (err) => (err ? reject(err) : resolve()));
    });
  }

  async close(): Promise<void> {}
}

registerWriter('stdout', () => new StdioWriter(process.stdout));
registerWriter('stderr', () => new StdioWriter(process.stderr));
