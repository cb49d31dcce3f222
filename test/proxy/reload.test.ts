import { readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { request } from 'undici';
import type { AccessEntry, Entry } from '../../src/core/entry.js';
import { Kflog } from '../../src/kflog.js';
import { ListenError } from '../../src/proxy/listener.js';
import { tempDir } from '../helpers/files.js';
import { parseResponses, rawClient } from '../helpers/http.js';
import { startUpstream, type Upstream } from '../helpers/upstream.js';
import { waitFor } from '../helpers/wait.js';
import { buildConfig } from './helpers.js';

let app: Kflog | undefined;
let upstream: Upstream | undefined;
const dirs: string[] = [];
afterEach(async () => {
  await app?.stop(1000);
  await upstream?.close();
  app = undefined;
  upstream = undefined;
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const accessOf = (entries: Entry[]): AccessEntry[] => entries.filter((e): e is AccessEntry => e.kind === 'access');
const portOf = (address: string): number => Number(address.split(':').at(-1));

describe('reload', () => {
  it('an address in both configs keeps its socket: an open keep-alive connection carries on under the new config', async () => {
    const a = buildConfig([{ target: { builtin: 'echo' } }]);
    app = await Kflog.start(a.config);
    const port = portOf(app.address('f1'));
    const c = await rawClient(port);
    c.socket.write('GET /api/users?before HTTP/1.1\r\nHost: x\r\n\r\n');
    await waitFor('first exchange', () => accessOf(a.entries).length === 1, 5000);

    const b = buildConfig([{ target: { builtin: 'echo' }, capture: { response_body: true } }]);
    const summary = await app.reload(b.config);
    expect(summary.kept).toEqual([`127.0.0.1:${port}`]);
    expect(portOf(app.address('f1'))).toBe(port);

    c.socket.write('GET /api/users?after HTTP/1.1\r\nHost: x\r\n\r\n');
    await waitFor('second exchange', () => accessOf(b.entries).length === 1, 5000);
    await waitFor('second response', () => parseResponses(c.received()).length === 2, 5000);
    expect(parseResponses(c.received()).map((r) => r.status)).toEqual([200, 200]);
    expect(accessOf(a.entries).map((e) => e.request.uri)).toEqual(['/api/users?before']);
    expect(accessOf(b.entries).map((e) => e.request.uri)).toEqual(['/api/users?after']);
    expect(accessOf(b.entries)[0]!.resp_body?.text).toBe('{"users":[{"id":1,"name":"John"}]}');
    expect(accessOf(b.entries)[0]!.forward.listen_port).toBe(port);
    c.socket.destroy();
  });

  it('an exchange in flight during a reload finishes and is logged once, by the config it started under', async () => {
    let release: (() => void) | undefined;
    upstream = await startUpstream((_req, res) => {
      release = () => res.end('late');
    });
    const a = buildConfig([{ target: { url: upstream.url } }]);
    app = await Kflog.start(a.config);
    const pending = request(`http://${app.address('f1')}/slow`);
    await waitFor('request upstream', () => release !== undefined, 5000);
    const b = buildConfig([{ target: { url: upstream.url } }]);
    await app.reload(b.config);
    release!();
    const res = await pending;
    expect(await res.body.text()).toBe('late');
    await app.stop(1000);
    expect(accessOf(a.entries).map((e) => e.request.uri)).toEqual(['/slow']);
    expect(a.entries.filter((e) => e.kind === 'request')).toHaveLength(1);
    expect(accessOf(b.entries)).toHaveLength(0);
  });

  it('new addresses start listening and dropped ones stop', async () => {
    const a = buildConfig([{ id: 'keep', target: { builtin: 'echo' } }, { id: 'old', target: { builtin: 'echo' } }]);
    app = await Kflog.start(a.config);
    const oldPort = portOf(app.address('old'));
    const b = buildConfig([{ id: 'keep', target: { builtin: 'echo' } }, { id: 'new', target: { builtin: 'echo' } }]);
    const summary = await app.reload(b.config);
    expect(summary.added).toHaveLength(1);
    expect(summary.removed).toEqual([`127.0.0.1:${oldPort}`]);
    const res = await request(`http://${app.address('new')}/api/users`);
    expect(res.statusCode).toBe(200);
    await res.body.dump();
    await waitFor('new forward logged', () => accessOf(b.entries).length === 1, 5000);
    expect(accessOf(b.entries)[0]!.forward.id).toBe('new');
    await expect(request(`http://127.0.0.1:${oldPort}/api/users`, { headersTimeout: 2000 })).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });

  it('a config that cannot start is refused whole and the running one keeps serving', async () => {
    const a = buildConfig([{ target: { builtin: 'echo' } }]);
    app = await Kflog.start(a.config);
    const blocker = await startUpstream((_req, res) => res.end());
    upstream = blocker;
    const b = buildConfig([
      { id: 'f1', target: { builtin: 'echo' } },
      { id: 'fresh', target: { builtin: 'echo' } },
      { id: 'clash', listen: `127.0.0.1:${blocker.port}`, target: { builtin: 'echo' } },
    ]);
    await expect(app.reload(b.config)).rejects.toBeInstanceOf(ListenError);
    expect(app.listeners.map((l) => l.cfg.id)).toEqual(['f1']);
    const res = await request(`http://${app.address('f1')}/api/users`);
    expect(res.statusCode).toBe(200);
    await res.body.dump();
    await waitFor('logged by the running config', () => accessOf(a.entries).length === 1, 5000);
    expect(accessOf(b.entries)).toHaveLength(0);
  });

  it('a file written by both configs stays open across the reload, with no line lost or doubled', async () => {
    const { dir } = tempDir('reload');
    dirs.push(dir);
    const shared = join(dir, 'access.log');
    const logs = (extra: Record<string, unknown>): Record<string, unknown> => ({
      logging: {
        logs: {
          default: { writer: { output: 'discard' } },
          access: { include: ['http.log.access'], writer: { output: 'file', filename: shared }, encoder: { format: 'json' } },
          ...extra,
        },
      },
    });
    const a = buildConfig([{ target: { builtin: 'echo' } }], logs({}));
    app = await Kflog.start(a.config);
    const url = `http://${app.address('f1')}/api/users`;
    for (let i = 0; i < 5; i++) await (await request(url)).body.dump();
    await app.pipeline.flush();
    // Move the file aside, as a rotation without a signal would: an open descriptor keeps writing to it.
    renameSync(shared, shared + '.moved');
    const b = buildConfig([{ target: { builtin: 'echo' } }], logs({
      extra: { include: ['http.log.access'], writer: { output: 'file', filename: join(dir, 'extra.log') }, encoder: { format: 'json' } },
    }));
    await app.reload(b.config);
    for (let i = 0; i < 5; i++) await (await request(url)).body.dump();
    await app.stop(1000);
    const lines = readFileSync(shared + '.moved', 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { trace_id: string });
    expect(lines).toHaveLength(10);
    expect(new Set(lines.map((l) => l.trace_id)).size).toBe(10);
    expect(readFileSync(join(dir, 'extra.log'), 'utf8').trim().split('\n')).toHaveLength(5);
  });

  it('an unchanged target is reused across a reload; a changed one is replaced', async () => {
    const a = buildConfig([{ target: { builtin: 'echo' } }, { target: { builtin: 'echo' } }]);
    app = await Kflog.start(a.config);
    const before = app.listeners.map((l) => l.target.address);
    const b = buildConfig([{ target: { builtin: 'echo' } }, { target: { builtin: 'echo' }, timeouts: { headers: '5s' } }]);
    await app.reload(b.config);
    const after = app.listeners.map((l) => l.target.address);
    expect(after[0]).toBe(before[0]);
    expect(after[1]).not.toBe(before[1]);
  });
});
