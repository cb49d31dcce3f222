import { spawnSync } from 'node:child_process';
import { connect } from 'node:net';
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { undoAfterEach } from '../helpers/cleanup.js';
import { startUpstream } from '../helpers/upstream.js';
import { getOnNewConnection } from '../helpers/http.js';
import { waitFor } from '../helpers/wait.js';
import { program } from '../encoders/corpus.js';
import { metric, parseMetrics, send, startAdminKflog, type AdminKflog } from './helpers.js';

const undo = undoAfterEach();

/** kflog with forward "api" to an upstream (GET /ok: "hello", anything else 404 "nope") and "dead" to a closed port. */
async function meteredKflog(): Promise<AdminKflog> {
  const upstream = await startUpstream((req, res) => {
    req.resume();
    req.on('end', () => {
      if (req.url === '/ok') res.end('hello');
      else res.writeHead(404).end('nope');
    });
  });
  undo.push(() => upstream.close());
  const closed = await startUpstream(() => undefined);
  await closed.close(); // its port now refuses connections
  return startAdminKflog(undo, {
    forwards: [
      { id: 'api', listen: '127.0.0.1:0', target: { url: upstream.url } },
      { id: 'dead', listen: '127.0.0.1:0', target: { url: closed.url } },
    ],
    logging: { logs: { default: { exclude: ['http.log'] }, access: { include: ['http.log.access'], writer: { output: 'file', filename: 'access.log' }, encoder: { format: 'json' } } } },
  });
}

async function scrape(admin: string): Promise<string> {
  const r = await send(`${admin}/metrics`);
  expect(r.status).toBe(200);
  expect(r.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
  return r.body;
}

describe('GET /metrics', () => {
  it('counts requests by forward, method and status class, bodies each way, durations and upstream failures as sent', async () => {
    const k = await meteredKflog();
    const api = `http://${k.addresses.api!}`;
    for (let i = 0; i < 3; i++) expect((await send(`${api}/ok`)).status).toBe(200);
    for (let i = 0; i < 2; i++) expect((await send(`${api}/ok`, { method: 'POST', body: 'abc' })).status).toBe(200);
    expect((await send(`${api}/missing`)).status).toBe(404);
    expect((await send(`http://${k.addresses.dead!}/`)).status).toBe(502);

    const m = parseMetrics(await scrape(k.admin));
    expect(metric(m, 'kflog_requests_total', { forward: 'api', method: 'GET', status_class: '2xx' })).toBe(3);
    expect(metric(m, 'kflog_requests_total', { forward: 'api', method: 'POST', status_class: '2xx' })).toBe(2);
    expect(metric(m, 'kflog_requests_total', { forward: 'api', method: 'GET', status_class: '4xx' })).toBe(1);
    expect(metric(m, 'kflog_requests_total', { forward: 'dead', status_class: '5xx' })).toBe(1);
    expect(metric(m, 'kflog_requests_total')).toBe(7);
    expect(metric(m, 'kflog_request_duration_seconds_count', { forward: 'api' })).toBe(6);
    expect(metric(m, 'kflog_request_duration_seconds_bucket', { forward: 'api', le: '+Inf' })).toBe(6);
    expect(metric(m, 'kflog_request_duration_seconds_sum', { forward: 'api' })).toBeGreaterThan(0);
    expect(metric(m, 'kflog_received_bytes_total', { forward: 'api' })).toBe(2 * 'abc'.length);
    expect(metric(m, 'kflog_sent_bytes_total', { forward: 'api' })).toBe(5 * 'hello'.length + 'nope'.length);
    expect(metric(m, 'kflog_upstream_failures_total', { forward: 'dead', termination_state: 'SC--' })).toBe(1);
    expect(metric(m, 'kflog_upstream_failures_total', { forward: 'api' })).toBe(0);
    expect(m.filter((s) => s.name === 'kflog_log_queue_limit_bytes').map((s) => s.labels.log).sort()).toEqual(['access', 'default']);
    // The log's counts come from the log thread a moment later.
    await waitFor('7 access entries written', async () =>
      metric(parseMetrics(await scrape(k.admin)), 'kflog_log_entries_written_total', { log: 'access' }) === 7);
    const after = parseMetrics(await scrape(k.admin));
    expect(metric(after, 'kflog_log_entries_dropped_total', { log: 'access' })).toBe(0);
    expect(metric(after, 'kflog_log_entries_failed_total', { log: 'access' })).toBe(0);
  });

  it('shows the client connections open now, per forward', async () => {
    const k = await meteredKflog();
    const [host, port] = k.addresses.api!.split(':');
    const open = () => scrape(k.admin).then((t) => metric(parseMetrics(t), 'kflog_open_connections', { forward: 'api' }));
    const socket = connect(Number(port), host);
    await once(socket, 'connect');
    undo.push(() => socket.destroy());
    await waitFor('one open connection', async () => (await open()) === 1);
    socket.destroy();
    await waitFor('no open connection', async () => (await open()) === 0);
  });

  it('with listener_processes 2, the primary answers with the counts of both listener processes summed', async () => {
    const k = await startAdminKflog(undo, { listener_processes: 2 });
    // A connection of its own each: node:cluster hands new connections to the processes in turn.
    const sent = 10;
    for (let i = 0; i < sent; i++) expect(await getOnNewConnection(k.addresses.demo!, '/api/users')).toBe(200);
    const m = parseMetrics(await scrape(k.admin));
    expect(metric(m, 'kflog_requests_total', { forward: 'demo', method: 'GET', status_class: '2xx' })).toBe(sent);
    expect(metric(m, 'kflog_request_duration_seconds_count', { forward: 'demo' })).toBe(sent);
    // The exchanges are served in the listener processes: the primary has no live stream of them, and says so.
    const stream = await send(`${k.admin}/api/stream`);
    expect(stream.status).toBe(404);
    expect(JSON.parse(stream.body).error).toBe('this process does not see the exchanges live (listener_processes > 1)');
  });

  it('passes promtool check metrics (the Prometheus format and its naming conventions)', async (ctx) => {
    if (!program('promtool')) ctx.skip();
    const k = await meteredKflog();
    expect((await send(`http://${k.addresses.api!}/ok`)).status).toBe(200);
    expect((await send(`http://${k.addresses.dead!}/`)).status).toBe(502);
    const text = await scrape(k.admin);
    const check = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8', timeout: 10_000 });
    expect(check.stdout + check.stderr).toBe('');
    expect(check.status).toBe(0);
  });
});
