import { readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { undoAfterEach } from '../helpers/cleanup.js';
import '../../src/modules.js';
import { Pipeline } from '../../src/emit/pipeline.js';
import { nextRollNumber } from '../../src/writers/roll-number.js';
import { tempDir } from '../helpers/files.js';
import { numberedAccessEntry } from '../helpers/entries.js';
import { logConfig } from './helpers.js';

// Each log rolls its own file; the names differ only in digits, as the default {forward.id}_{listen.port} names do.
function rollingLogs(dir: string, names: string[]): Pipeline {
  return new Pipeline(
    names.map((name) => logConfig(name, { output: 'file', filename: join(dir, `${name}.log`), roll_size_mb: 0.05, roll_keep: 1000 })),
  );
}

async function run(dir: string, names: string[], entries: number): Promise<void> {
  const pipeline = rollingLogs(dir, names);
  for (let i = 0; i < entries; i++) {
    pipeline.emit(numberedAccessEntry(i));
    if (i % 50 === 49) await pipeline.flush();
  }
  await pipeline.close();
}

function rollsOf(dir: string, name: string): number[] {
  const roll = new RegExp('^' + name + '\\.(\\d+)\\.log(\\.gz)?$');
  return readdirSync(dir)
    .map((n) => roll.exec(n)?.[1])
    .filter((n): n is string => n !== undefined)
    .map(Number)
    .sort((a, b) => a - b);
}

describe('rolled file names', () => {
  const cleanups = undoAfterEach();

  it('numbers rolls from the roll suffix only, never from digits elsewhere in the names, across restarts', async () => {
    const t = tempDir('rollnames');
    cleanups.push(t.cleanup);
    const names = ['r_18110', 'demo_8080', 'orders-api_18101'];
    await run(t.dir, names, 300);
    const firstRun = names.map((n) => rollsOf(t.dir, n));
    for (const rolls of firstRun) {
      expect(rolls[0]).toBe(1);
      expect(rolls.length).toBeGreaterThan(1);
      // Consecutive numbers: nothing was taken from another file's digits.
      expect(rolls).toEqual(rolls.map((_, i) => i + 1));
    }
    const before = names.map((n) => readFileSync(join(t.dir, `${n}.1.log`), 'utf8'));

    await run(t.dir, names, 300);
    for (const [i, n] of names.entries()) {
      const rolls = rollsOf(t.dir, n);
      expect(rolls).toEqual(rolls.map((_, k) => k + 1));
      expect(rolls.length).toBeGreaterThan(firstRun[i]!.length);
      // Older rolls are kept as they were.
      expect(readFileSync(join(t.dir, `${n}.1.log`), 'utf8')).toBe(before[i]);
    }
    const stray = readdirSync(t.dir).filter((f) => !names.some((n) => f === `${n}.log` || new RegExp(`^${n}\\.\\d+\\.log$`).test(f)));
    expect(stray).toEqual([]);
  });

  it('starts at 1, continues the highest plain roll, and goes past a compressed one', async () => {
    const t = tempDir('rollnumber');
    cleanups.push(t.cleanup);
    const base = join(t.dir, 'api_8080');
    expect(await nextRollNumber(base, '.log')).toBe(1);
    writeFileSync(join(t.dir, 'api_8080.2.log'), '');
    writeFileSync(join(t.dir, 'api_8081.9.log'), '');
    writeFileSync(join(t.dir, 'api_8080.log.7'), '');
    symlinkSync('api_8080.2.log', join(t.dir, 'api_8080.log'));
    expect(await nextRollNumber(base, '.log')).toBe(2);
    writeFileSync(join(t.dir, 'api_8080.3.log.gz'), '');
    expect(await nextRollNumber(base, '.log')).toBe(4);
  });
});
