import { spawn } from 'node:child_process';
import { request } from 'undici';
import { describe, expect, it } from 'vitest';
import { undoAfterEach } from '../helpers/cleanup.js';
import { tempDir } from '../helpers/files.js';
import { KflogProcess, writeConfig } from '../helpers/kflog-process.js';

// `kflog run | head -1` with the real head: once head has its line it exits, and every later write to kflog's
// stdout fails with EPIPE. The user must hear of it when it happens, not only from the exit summary's failed=.

const CLOSED = /kflog: log "default": stdout was closed by its reader \(EPIPE\)/g;

describe('a log on a stdout whose reader went away', () => {
  const cleanups = undoAfterEach();

  it.each([true, false])('is reported once on stderr when it happens, its entries counted as failed (thread %s)', async (thread) => {
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    // The only log is on stdout, so no console log shows kflog's own errors on the terminal.
    const path = writeConfig(dir, {
      forwards: [{ id: 'api', listen: '127.0.0.1:0', target: { builtin: 'echo' } }],
      logging: { thread, logs: { default: { writer: { output: 'stdout' }, encoder: { format: 'json' } } } },
    });
    const head = spawn('head', ['-1'], { stdio: ['pipe', 'pipe', 'inherit'] });
    let firstLine = '';
    head.stdout.setEncoding('utf8').on('data', (d: string) => (firstLine += d));
    const headExited = new Promise<number | null>((res) => head.once('exit', (code) => res(code)));
    const proc = new KflogProcess(['run', '--config', path], { cwd: dir, stdout: head.stdin });
    cleanups.push(() => proc.stop('SIGKILL'));
    // kflog holds its own copy of the pipe; this one would keep head from ever seeing its end.
    head.stdin.destroy();
    const address = await proc.waitFor(() => /curl -i http:\/\/(\S+?)\/api\/users/.exec(proc.stderr)?.[1], 'the curl line');
    // head took kflog's first entry ("listening") and is gone before any exchange is logged.
    expect(await headExited).toBe(0);
    expect(JSON.parse(firstLine)).toMatchObject({ logger: 'kflog', msg: 'listening' });

    for (let i = 0; i < 3; i++) {
      const res = await request(`http://${address}/api/users`);
      await res.body.text();
      expect(res.statusCode).toBe(200);
    }
    await proc.waitFor(() => proc.stderr.match(CLOSED), 'the closed stdout reported');
    const { code } = await proc.stop('SIGTERM');
    expect(code).toBe(0);

    expect(proc.stderr.match(CLOSED)).toHaveLength(1);
    const summary = /log "default" written=(\d+) sampled_out=0 dropped=0 failed=(\d+)/.exec(proc.stderr);
    expect(summary, proc.stderr).not.toBeNull();
    expect(Number(summary![1])).toBe(1);
    // At least the three access entries and kflog's own report of the failure; none of them reached the pipe.
    expect(Number(summary![2])).toBeGreaterThanOrEqual(3);
  });
});
