import { existsSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { undoAfterEach } from '../helpers/cleanup.js';
import { startKflog } from '../helpers/kflog-process.js';
import { readLines } from '../helpers/files.js';
import { get } from '../helpers/http.js';
import { waitFor } from '../helpers/wait.js';

// The real CLI (`kflog run --config`, dist build) in its own process, driven by real signals and HTTP requests.

describe('kflog run: log files and signals', () => {
  const cleanups = undoAfterEach();

  it('reopens every log file on SIGUSR1, and its exit summary counts what each log wrote', async () => {
    const config = {
      forwards: [{ id: 'api', listen: '127.0.0.1:0', target: { builtin: 'echo' } }],
      logging: {
        logs: {
          access: { include: ['http.log.access'], writer: { output: 'file', filename: 'logs/access.log' }, encoder: { format: 'json' } },
          both: { include: ['http.log'], writer: { output: 'file', filename: 'logs/both.log' }, encoder: { format: 'json' } },
        },
      },
    };
    const { proc, addresses, dir } = await startKflog(config);
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }), () => proc.stop('SIGKILL'));
    const access = join(dir, 'logs', 'access.log');
    const both = join(dir, 'logs', 'both.log');
    for (let n = 0; n < 3; n++) expect((await get(`http://${addresses.api}/api/users?n=${n}`)).status).toBe(200);
    await waitFor('3 access lines', () => readLines(access).length === 3 && readLines(both).length === 6);

    // What logrotate does: move the files away, then tell kflog.
    renameSync(access, access + '.1');
    renameSync(both, both + '.1');
    proc.child.kill('SIGUSR1');
    await waitFor('both files created anew', () => existsSync(access) && existsSync(both));
    for (let n = 3; n < 5; n++) expect((await get(`http://${addresses.api}/api/users?n=${n}`)).status).toBe(200);
    await waitFor('new lines in the new files', () => readLines(access).length === 2 && readLines(both).length === 4);
    expect(readLines(access + '.1')).toHaveLength(3);
    expect(readLines(access).every((l) => /n=[34]"/.test(l))).toBe(true);

    const exited = await proc.stop('SIGTERM');
    expect(exited.code).toBe(0);
    expect(proc.stderr).toMatch(/log "access" written=5 sampled_out=0 dropped=0 failed=0/);
    expect(proc.stderr).toMatch(/log "both" written=10 sampled_out=0 dropped=0 failed=0/);
  });
});
