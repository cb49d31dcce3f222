import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { undoAfterEach } from '../helpers/cleanup.js';
import { tempDir } from '../helpers/files.js';
import { KflogProcess, startKflog, writeConfig } from '../helpers/kflog-process.js';
import { kflogCli } from '../store/helpers.js';
import { waitFor } from '../helpers/wait.js';
import { makeTestPki } from '../helpers/pki.js';
import { adminUrlIn, send, startAdminKflog } from './helpers.js';

const undo = undoAfterEach();

/** A TCP server holding a loopback address, so kflog finds it taken. */
async function holdPort(port = 0): Promise<{ server: Server; port: number } | undefined> {
  const server = createServer();
  server.listen(port, '127.0.0.1');
  const failed = once(server, 'error').then(() => undefined);
  const up = once(server, 'listening').then(() => ({ server, port: (server.address() as { port: number }).port }));
  const held = await Promise.race([up, failed]);
  if (held) undo.push(() => new Promise<void>((r) => server.close(() => r())));
  return held;
}

describe('the admin listener', () => {
  it('kflog run prints its URL and the viewer\'s beside the curl line, and /api/health answers there', async () => {
    const k = await startAdminKflog(undo);
    expect(k.proc.stderr).toMatch(/^kflog: admin: http:\/\/127\.0\.0\.1:\d+\/metrics and http:\/\/127\.0\.0\.1:\d+\/api\/$/m);
    expect(k.proc.stderr).toContain(`\nkflog: viewer: ${k.admin}/\n`);
    const health = await send(`${k.admin}/api/health`);
    expect(health.status).toBe(200);
    expect(JSON.parse(health.body)).toMatchObject({ status: 'ok', pid: k.proc.child.pid });
  });

  it('"admin": false starts no admin listener and prints no admin line', async () => {
    const k = await startKflog({ forwards: [{ id: 'demo', listen: '127.0.0.1:0', target: { builtin: 'echo' } }], admin: false });
    undo.push(() => k.proc.stop());
    expect(adminUrlIn(k.proc.stderr)).toBeUndefined();
    expect(k.proc.stderr).not.toContain('admin');
  });

  // The default address is fixed by design (Caddy's 2019): held here, as a second kflog would find it. Every
  // kflog this suite starts without an admin block takes it for a while, so whoever holds it now may let go
  // before this kflog starts: the test waits until it holds the port itself. Only a holder that never lets go
  // (a developer's own kflog) is taken as it is, which is as good.
  it('with its default address taken, kflog says so and runs without it', async () => {
    await waitFor('127.0.0.1:2019 to be free for this test to hold', () => holdPort(2019), 20_000, 50).catch(() => undefined);
    const { dir } = tempDir('admin');
    const k = await startKflog({ forwards: [{ id: 'demo', listen: '127.0.0.1:0', target: { builtin: 'echo' } }] }, dir);
    undo.push(() => k.proc.stop());
    expect(k.proc.stderr).toContain('kflog: admin listener: 127.0.0.1:2019 is in use (another kflog?); running without it');
    expect(adminUrlIn(k.proc.stderr)).toBeUndefined();
    expect((await send(`http://${k.addresses.demo}/api/users`)).status).toBe(200);
  });

  it('an admin address the config names that is taken fails the start, exit 1, naming it', async () => {
    const held = (await holdPort())!;
    const { dir } = tempDir('admin');
    const path = writeConfig(dir, {
      forwards: [{ id: 'demo', listen: '127.0.0.1:0', target: { builtin: 'echo' } }],
      admin: { listen: `127.0.0.1:${held.port}` },
    });
    const proc = new KflogProcess(['run', '--config', path], { cwd: dir });
    const exited = await proc.exited;
    expect(exited.code).toBe(1);
    expect(proc.stderr).toContain(`kflog: cannot listen on 127.0.0.1:${held.port} for the admin listener (admin.listen): address already in use`);
    expect(proc.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });

  it('a listen address that is not loopback without a token is refused by validate and run, exit 2, with the reason', async () => {
    const { dir } = tempDir('admin');
    const path = writeConfig(dir, {
      forwards: [{ id: 'demo', listen: '127.0.0.1:0', target: { builtin: 'echo' } }],
      admin: { listen: '0.0.0.0:0' },
    });
    const validate = kflogCli(['validate', '--config', path], dir);
    expect(validate.code).toBe(2);
    expect(validate.stderr).toContain('/admin/listen: "0.0.0.0" is not loopback: set admin.token too, since whoever reaches the admin listener sees the captured traffic');
    const run = new KflogProcess(['run', '--config', path], { cwd: dir });
    expect((await run.exited).code).toBe(2);
    expect(run.stderr).toContain('/admin/listen: "0.0.0.0" is not loopback');
  });
});

describe('the admin listener refuses', () => {
  it('a request whose Host is not its own (DNS rebinding), 403', async () => {
    const k = await startAdminKflog(undo);
    const port = new URL(k.admin).port;
    const evil = await send(`${k.admin}/api/health`, { headers: { Host: `evil.example:${port}` } });
    expect(evil.status).toBe(403);
    expect(JSON.parse(evil.body).error).toContain(`host "evil.example:${port}" is not this admin listener's`);
    // Every loopback name of its own port is its own.
    for (const host of [`localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`]) {
      expect((await send(`${k.admin}/api/health`, { headers: { Host: host } })).status).toBe(200);
    }
    expect((await send(`${k.admin}/metrics`, { headers: { Host: 'localhost:1' } })).status).toBe(403);
  });

  it('a POST without an Origin or from another origin, 403; from its own origin it reaches the route', async () => {
    const k = await startAdminKflog(undo);
    const none = await send(`${k.admin}/api/exchanges`, { method: 'POST' });
    expect(none.status).toBe(403);
    expect(JSON.parse(none.body).error).toBe('POST needs an Origin header naming this admin listener');
    const other = await send(`${k.admin}/api/exchanges`, { method: 'DELETE', headers: { Origin: 'http://evil.example' } });
    expect(other.status).toBe(403);
    expect(JSON.parse(other.body).error).toBe('origin "http://evil.example" is not this admin listener\'s');
    // Past the guard: the API is read-only, so the route answers 405.
    const own = await send(`${k.admin}/api/exchanges`, { method: 'POST', headers: { Origin: k.admin } });
    expect(own.status).toBe(405);
    expect(own.headers.allow).toBe('GET, HEAD');
  });

  it('with admin.token, a request without the bearer token or with a wrong one, 401; with it, 200', async () => {
    const token = 'a-long-enough-token-123';
    const k = await startAdminKflog(undo, { admin: { listen: '127.0.0.1:0', token } });
    const without = await send(`${k.admin}/metrics`);
    expect(without.status).toBe(401);
    expect(without.headers['www-authenticate']).toBe('Bearer realm="kflog admin"');
    expect((await send(`${k.admin}/metrics`, { headers: { Authorization: `Bearer ${token}x` } })).status).toBe(401);
    expect((await send(`${k.admin}/metrics`, { headers: { Authorization: `Basic ${token}` } })).status).toBe(401);
    const ok = await send(`${k.admin}/metrics`, { headers: { Authorization: `Bearer ${token}` } });
    expect(ok.status).toBe(200);
    expect(ok.body).toContain('# TYPE kflog_requests_total counter');
  });

  it('a path it does not serve, 404 naming the ones it does', async () => {
    const k = await startAdminKflog(undo);
    const r = await send(`${k.admin}/admin/secrets`);
    expect(r.status).toBe(404);
    expect(JSON.parse(r.body).error).toContain('no such path: /admin/secrets');
  });
});

describe('GET /api/config', () => {
  it('shows the running config with the admin token and the password of a target URL masked', async () => {
    const token = 'a-long-enough-token-456';
    const k = await startAdminKflog(undo, {
      forwards: [
        { id: 'demo', listen: '127.0.0.1:0', target: { builtin: 'echo' } },
        { id: 'api', listen: '127.0.0.1:0', target: { url: 'http://svc:hunter2-secret@127.0.0.1:1/base' } },
      ],
      admin: { listen: '127.0.0.1:0', token },
    });
    const r = await send(`${k.admin}/api/config`, { headers: { Authorization: `Bearer ${token}` } });
    expect(r.status).toBe(200);
    expect(r.body).not.toContain(token);
    expect(r.body).not.toContain('hunter2-secret');
    const config = JSON.parse(r.body);
    expect(config.admin.token).toBe('[masked]');
    expect(config.forwards[1].target.url).toBe('http://svc:%5Bmasked%5D@127.0.0.1:1/base');
    expect(config.forwards[0]).toMatchObject({ id: 'demo', target: { builtin: 'echo' } });
    // Field names are not credentials: the default log's encoder settings are shown as they are.
    expect(config.logs.map((l: { name: string }) => l.name)).toEqual(['default']);
  });

  it('masks the private key a forward read from its tls client_key_file, and shows its certificate', async () => {
    const { dir } = tempDir('admin-tls');
    const pki = makeTestPki(dir);
    const k = await startAdminKflog(undo, {
      forwards: [
        { id: 'demo', listen: '127.0.0.1:0', target: { builtin: 'echo' } },
        { id: 'mtls', listen: '127.0.0.1:0', target: { url: 'https://127.0.0.1:1' }, tls: { ca_file: pki.caCert, client_cert_file: pki.clientCert, client_key_file: pki.clientKey } },
      ],
      admin: { listen: '127.0.0.1:0' },
    });
    const r = await send(`${k.admin}/api/config`);
    expect(r.status).toBe(200);
    expect(r.body).not.toContain('PRIVATE KEY');
    const key = readFileSync(pki.clientKey, 'utf8').split('\n').find((l) => l.length > 40)!;
    expect(r.body).not.toContain(key);
    expect(r.body).toContain('BEGIN CERTIFICATE');
  });
});
