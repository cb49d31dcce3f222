import { mkdir, open, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { expandHome, parseMode } from './paths.js';
import { registerWriter } from './registry.js';
import type { Writer, WriterOptions } from './writer.js';

/** A plain appending file, created 0600 in a 0700 directory by default (logs hold request data). */
export class AppendFileWriter implements Writer {
  readonly key: string;
  readonly description: string;
  readonly isTTY = false;
  private handle: FileHandle | undefined;
  private readonly path: string;
  private readonly mode: number;
  private readonly dirMode: number;

  constructor(options: WriterOptions) {
    this.path = expandHome(String(options.filename));
    this.mode = parseMode(options.mode, 0o600);
    this.dirMode = parseMode(options.dir_mode, 0o700);
    this.key = 'file:' + this.path;
    this.description = 'file ' + this.path;
  }

  async open(): Promise<void> {
    await mkdir(dirname(this.path), { recursive: true, mode: this.dirMode });
    this.handle = await open(this.path, 'a', this.mode);
  }

  async write(batch: string | Buffer): Promise<void> {
    if (!this.handle) await this.open();
    await this.handle!.appendFile(batch);
  }

  async reopen(): Promise<void> {
    const old = this.handle;
    this.handle = undefined;
    await old?.close();
    await this.open();
  }

  async close(): Promise<void> {
    const h = this.handle;
    this.handle = undefined;
    await h?.close();
  }
}

registerWriter('file', (options) => new AppendFileWriter(options));
