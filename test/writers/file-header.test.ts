import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { undoAfterEach } from '../helpers/cleanup.js';
import '../../src/modules.js';
import { FileWriter, fileSettings } from '../../src/writers/file.js';
import type { WriterOptions } from '../../src/writers/writer.js';
import { tempDir } from '../helpers/files.js';

const HEADER = '@authorization = REDACTED\n\n###\n';

function fileWriter(options: Omit<WriterOptions, 'output'>): FileWriter {
  return new FileWriter(fileSettings({ output: 'file', file_header: HEADER, ...options }));
}

describe('file writer with a format\'s file header', () => {
  const cleanups = undoAfterEach();

  it('writes the header once at the top of a file, however often the file is opened again to append', async () => {
    const t = tempDir('file-header');
    cleanups.push(t.cleanup);
    const path = join(t.dir, 'replay.http');
    for (const batch of ['one\n', 'two\n', 'three\n']) {
      const w = fileWriter({ filename: path });
      await w.write(batch);
      await w.close();
    }
    expect(readFileSync(path, 'utf8')).toBe(HEADER + 'one\ntwo\nthree\n');
  });

  it('starts every rolled file with the header, so each one replays on its own', async () => {
    const t = tempDir('file-header-roll');
    cleanups.push(t.cleanup);
    const w = fileWriter({ filename: join(t.dir, 'replay.http'), roll_size_mb: 0.01 });
    const block = 'x'.repeat(1023) + '\n';
    for (let i = 0; i < 30; i++) await w.write(block.repeat(2));
    await w.close();
    const rolled = readdirSync(t.dir).filter((n) => /^replay\.\d+\.http$/.test(n));
    expect(rolled.filter((n) => readFileSync(join(t.dir, n), 'utf8') !== '').length).toBeGreaterThanOrEqual(4);
    for (const name of rolled) {
      const text = readFileSync(join(t.dir, name), 'utf8');
      if (text === '') continue; // the roll after the last batch: the header comes with its first entry
      expect(text.startsWith(HEADER), name).toBe(true);
      expect(text.split(HEADER)).toHaveLength(2);
    }
  });
});
