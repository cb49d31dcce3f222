import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { KflogProcess, tempDir, writeConfig } from '../helpers/kflog-process.js';

describe('a file log whose path can never be a log file', () => {
  it('stops kflog from starting, naming the log and the path, when the path is a FIFO nobody reads', async () => {
    const dir = tempDir();
    const fifo = join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    const path = writeConfig(dir, {
      forwards: [{ id: 'api', listen: '127.0.0.1:0', target: { builtin: 'echo' } }],
      logging: { logs: { f: { writer: { output: 'file', filename: fifo }, encoder: { format: 'json' } } } },
    });
    const p = new KflogProcess(['run', '--config', path], { cwd: dir });
    // Before the fix the open of the FIFO never returned: kflog neither listened nor exited.
    const { code } = await p.exited;
    expect(code).toBe(1);
    expect(p.stderr).toContain(`log "f": file ${fifo} is a FIFO`);
    expect(p.stderr).not.toContain('listening; try:');
  });
});
