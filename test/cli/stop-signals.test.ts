import { join } from 'node:path';
import { Agent, request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { readLines, tempDir, waitForLines } from '../helpers/files.js';
import { type KflogProcess, startKflog } from '../helpers/kflog-process.js';
import { describeRequest, waitingLine } from '../../src/proxy/in-flight.js';

let proc: KflogProcess | undefined;
afterEach(async () => {
  await proc?.stop('SIGKILL');
  proc = undefined;
});

/** kflog in front of its builtin echo (GET /delay/:ms), a JSON file log, and one slow request in flight. */
async function kflogWithSlowRequest(extra: Record<string, unknown> = {}) {
  const { dir } = tempDir();
  const file = join(dir, 'all.log');
  const requests = join(dir, 'requests.log');
  const started = await startKflog(
    {
      forwards: [{ id: 'api', listen: '127.0.0.1:0', target: { builtin: 'echo' } }],
      shutdown_timeout: '30s',
      ...extra,
      logging: {
        logs: {
          all: { include: ['http.log.access'], writer: { output: 'file', filename: file }, encoder: { format: 'json' } },
          // The request entry is written when the proxy has the request: the signal must find it in flight.
          requests: { include: ['http.log.request'], writer: { output: 'file', filename: requests }, encoder: { format: 'json' } },
        },
      },
    },
    dir,
  );
  proc = started.proc;
  const slow = request(`http://${started.addresses.api}/delay/30000?token=S3CRET`).then(
    (r) => ({ status: r.statusCode, error: undefined as unknown }),
    (error: unknown) => ({ status: 0, error }),
  );
  await waitForLines(requests, (lines) => lines.length === 1);
  return { proc: started.proc, file, slow };
}

describe('Ctrl-C and SIGTERM', () => {
  it('says once a second what the first Ctrl-C is waiting for, without the query', async () => {
    const { proc, slow } = await kflogWithSlowRequest();
    proc.child.kill('SIGINT');
    const first = await proc.waitFor(() => /waiting for 1 exchange: GET \/delay\/30000\?… \(\d+ s\)/.exec(proc.stderr)?.[0], 'a waiting line');
    await proc.waitFor(() => proc.stderr.split('\n').filter((l) => l.includes('waiting for 1 exchange')).length >= 3, 'three waiting lines');
    expect(first).toBeDefined();
    expect(proc.stderr).not.toContain('S3CRET');
    expect(proc.stderr).toContain('Ctrl-C again cuts them');
    proc.child.kill('SIGKILL');
    await slow;
  });

  it('on SIGTERM tells a keep-alive client to close instead of serving its next request until the deadline', async () => {
    const { dir } = tempDir();
    const file = join(dir, 'all.log');
    const started = await startKflog({
      forwards: [{ id: 'api', listen: '127.0.0.1:0', target: { builtin: 'echo' } }],
      shutdown_timeout: '30s',
      logging: {
        logs: {
          all: { include: ['http.log.access'], writer: { output: 'file', filename: file }, encoder: { format: 'json' } },
          requests: { include: ['http.log.request'], writer: { output: 'file', filename: join(dir, 'requests.log') }, encoder: { format: 'json' } },
        },
      },
    }, dir);
    proc = started.proc;
    const url = `http://${started.addresses.api}`;
    // A client that sends its next request on the same connection as soon as it has a response, as load does.
    const agent = new Agent({ connections: 1 });
    await (await request(`${url}/api/users`, { dispatcher: agent })).body.text();
    const inFlight = request(`${url}/delay/500`, { dispatcher: agent });
    await waitForLines(join(dir, 'requests.log'), (lines) => lines.length === 2);
    started.proc.child.kill('SIGTERM');
    const during = await inFlight;
    await during.body.text();
    expect(during.statusCode).toBe(200);
    expect(during.headers.connection).toBe('close');
    // Its connection closed and the listener too: there is nothing left to send a request on.
    await expect(request(`${url}/api/users`, { dispatcher: agent }).then((r) => r.body.text())).rejects.toThrow();
    await agent.destroy();
    const { code } = await started.proc.exited;
    expect(code).toBe(0);
    const entries = readLines(file).map((l) => JSON.parse(l) as { request: { uri: string }; termination_state: string });
    expect(entries.map((e) => [e.request.uri, e.termination_state])).toEqual([['/api/users', '----'], ['/delay/500', '----']]);
  });

  it('on a second Ctrl-C cuts the in-flight exchange, logs it as killed, prints the summary and exits 130', async () => {
    const { proc, file, slow } = await kflogWithSlowRequest();
    proc.child.kill('SIGINT');
    await proc.waitFor(() => proc.stderr.includes('waiting for 1 exchange'), 'the waiting line');
    proc.child.kill('SIGINT');
    const { code } = await proc.exited;
    expect(code).toBe(130);
    expect(proc.stderr).toContain('SIGINT again: cutting 1 in-flight exchange');
    expect(proc.stderr).toMatch(/log "all" written=1 sampled_out=0 dropped=0 failed=0/);
    const access = readLines(file).map((l) => JSON.parse(l) as { termination_state: string; error: string; request: { uri: string } });
    expect(access).toHaveLength(1);
    expect(access[0]!.termination_state).toMatch(/^K/);
    expect(access[0]!.error).toBe('cut by a second SIGINT');
    expect(access[0]!.request.uri).toBe('/delay/30000?token=S3CRET');
    expect((await slow).status).toBe(0);
  });

  it('on a second SIGTERM does the same and exits 143', async () => {
    const { proc, file } = await kflogWithSlowRequest();
    proc.child.kill('SIGTERM');
    await proc.waitFor(() => proc.stderr.includes('waiting for 1 exchange'), 'the waiting line');
    proc.child.kill('SIGTERM');
    const { code } = await proc.exited;
    expect(code).toBe(143);
    const access = readLines(file).map((l) => JSON.parse(l) as { termination_state: string; error: string });
    expect(access.map((e) => [e.termination_state[0], e.error])).toEqual([['K', 'cut by a second SIGTERM']]);
  });

  it('with listener processes, a second Ctrl-C cuts the exchange in its listener process and exits 130', async () => {
    const { proc, file } = await kflogWithSlowRequest({ listener_processes: 2 });
    proc.child.kill('SIGINT');
    await proc.waitFor(() => proc.stderr.includes('SIGINT: finishing'), 'shutdown to begin');
    proc.child.kill('SIGINT');
    const { code } = await proc.exited;
    expect(code).toBe(130);
    expect(proc.stderr).toMatch(/log "all" written=1 sampled_out=0 dropped=0 failed=0/);
    const access = readLines(file).map((l) => JSON.parse(l) as { termination_state: string; error: string });
    expect(access.map((e) => [e.termination_state[0], e.error])).toEqual([['K', 'cut by a second SIGINT']]);
  });

  it('exits at once on a third Ctrl-C', async () => {
    const { proc, slow } = await kflogWithSlowRequest();
    proc.child.kill('SIGINT');
    await proc.waitFor(() => proc.stderr.includes('waiting for 1 exchange'), 'the waiting line');
    proc.child.kill('SIGINT');
    proc.child.kill('SIGINT');
    const { code } = await proc.exited;
    expect(code).toBe(130);
    await slow;
  });
});

describe('waitingLine', () => {
  it('lists the oldest five exchanges with their age in seconds and counts the rest', () => {
    const now = 100_000;
    const active = Array.from({ length: 7 }, (_, i) => ({ what: `GET /r${i}`, startedPerf: now - (7 - i) * 1000 }));
    expect(waitingLine(active, now)).toBe(
      'waiting for 7 exchanges: GET /r0 (7 s), GET /r1 (6 s), GET /r2 (5 s), GET /r3 (4 s), GET /r4 (3 s), and 2 more');
  });

  it('says nothing when nothing is in flight', () => {
    expect(waitingLine([], 0)).toBeUndefined();
  });
});

describe('describeRequest', () => {
  it('keeps the method and path, hides the query, and shows control characters as dots', () => {
    expect(describeRequest('GET', '/a?token=S3CRET')).toBe('GET /a?…');
    expect(describeRequest('GET', '/a\x1b[2Jb')).toBe('GET /a·[2Jb');
    expect(describeRequest('POST', '/' + 'x'.repeat(200))).toBe(`POST /${'x'.repeat(78)}…`);
  });
});
