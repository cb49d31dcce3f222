import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readLines, tempDir } from '../helpers/files.js';
import { get } from '../helpers/http.js';
import { KflogProcess, writeConfig } from '../helpers/kflog-process.js';

describe('a file log whose path can never be a log file', () => {
  it('stops kflog from starting, naming the log and the path, when the path is a FIFO nobody reads', async () => {
    const { dir } = tempDir();
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

  it('makes a SIGHUP refused whole, the running config kept, and the next good SIGHUP applied', async () => {
    const { dir } = tempDir();
    const fifo = join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    const access = { include: ['http.log.access'], writer: { output: 'file', filename: join(dir, 'access.log') }, encoder: { format: 'json' } };
    const forwards = [{ id: 'api', listen: '127.0.0.1:0', target: { builtin: 'echo' } }];
    const path = writeConfig(dir, { forwards, logging: { logs: { access } } });
    const p = new KflogProcess(['run', '--config', path], { cwd: dir });
    try {
      const address = await p.waitFor(() => /curl -i http:\/\/(\S+?)\/api\/users/.exec(p.stderr)?.[1], 'the curl line');
      expect((await get(`http://${address}/api/users?before`)).status).toBe(200);

      writeConfig(dir, { forwards, logging: { logs: { access, f: { writer: { output: 'file', filename: fifo }, encoder: { format: 'json' } } } } });
      p.child.kill('SIGHUP');
      await p.waitFor(() => p.stderr.includes('SIGHUP: keeping the running config'), 'the refusal');
      expect(p.stderr).toContain(`SIGHUP: cannot start the new config: log "f": file ${fifo} is a FIFO`);
      expect((await get(`http://${address}/api/users?refused`)).status).toBe(200);

      const second = { include: ['http.log.access'], writer: { output: 'file', filename: join(dir, 'second.log') }, encoder: { format: 'clf' } };
      writeConfig(dir, { forwards, logging: { logs: { access, second } } });
      p.child.kill('SIGHUP');
      await p.waitFor(() => p.stderr.includes('SIGHUP: reloaded config'), 'the second reload');
      expect((await get(`http://${address}/api/users?applied`)).status).toBe(200);

      p.child.kill('SIGTERM');
      expect((await p.exited).code).toBe(0);
      // The running log never missed an exchange; the refused log never ran; the good reload's log did.
      expect(readLines(join(dir, 'access.log')).map((l) => (JSON.parse(l) as { request: { uri: string } }).request.uri))
        .toEqual(['/api/users?before', '/api/users?refused', '/api/users?applied']);
      expect(readLines(join(dir, 'second.log'))).toHaveLength(1);
      expect(p.stderr).not.toMatch(/exit summary:.*log "f"/);
    } finally {
      if (p.child.exitCode === null) p.child.kill('SIGKILL');
    }
  });
});
