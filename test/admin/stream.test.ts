import { request, type IncomingMessage } from 'node:http';
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { undoAfterEach } from '../helpers/cleanup.js';
import { startUpstream } from '../helpers/upstream.js';
import { waitFor } from '../helpers/wait.js';
import { metric, parseMetrics, send, startAdminKflog } from './helpers.js';

const undo = undoAfterEach();

interface SseEvent {
  event: string;
  data: string;
}

/** A client of /api/stream that reads only while not paused, so a test can stall it like a paused browser. */
async function streamClient(admin: string): Promise<{ res: IncomingMessage; events(): SseEvent[] }> {
  const req = request(`${admin}/api/stream`, { agent: false });
  req.end();
  const [res] = (await Promise.race([
    once(req, 'response'),
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error('no answer from /api/stream within 10 s')), 10_000)),
  ])) as [IncomingMessage];
  undo.push(() => req.destroy());
  let text = '';
  res.setEncoding('utf8').on('data', (d: string) => (text += d));
  await waitFor('the stream to open', () => text.startsWith(': kflog exchanges\n\n'));
  const events = (): SseEvent[] =>
    text.split('\n\n').flatMap((block) => {
      const lines = block.split('\n');
      const event = lines.find((l) => l.startsWith('event: '))?.slice(7);
      const data = lines.find((l) => l.startsWith('data: '))?.slice(6);
      return event !== undefined && data !== undefined ? [{ event, data }] : [];
    });
  return { res, events };
}

describe('GET /api/stream', () => {
  it('sends each exchange as it ends, as the json format writes it, Authorization redacted', async () => {
    const k = await startAdminKflog(undo);
    const client = await streamClient(k.admin);
    const r = await send(`http://${k.addresses.demo!}/api/users?page=2`, { headers: { Authorization: 'Bearer s3cret-of-the-client' } });
    expect(r.status).toBe(200);
    const [first] = await waitFor('one exchange event', () => client.events().length === 1 && client.events());
    expect(first!.event).toBe('exchange');
    const entry = JSON.parse(first!.data);
    expect(entry).toMatchObject({ msg: 'handled request', status: 200, request: { method: 'GET', uri: '/api/users?page=2' } });
    expect(entry.request.headers.Authorization).toEqual(['REDACTED']);
    expect(first!.data).not.toContain('s3cret-of-the-client');
  });

  it('a client that stops reading is sent at most a bounded backlog, then told how many it missed', async () => {
    // 64 KB bodies captured: each event is over 64 KB, so the socket buffers fill after a few dozen.
    const body = Buffer.alloc(64 * 1024, 'x');
    const upstream = await startUpstream((_req, res) => res.end(body));
    undo.push(() => upstream.close());
    const k = await startAdminKflog(undo, {
      forwards: [{ id: 'big', listen: '127.0.0.1:0', target: { url: upstream.url }, capture: { response_body: true, max_body_bytes: 65536 } }],
      logging: { logs: { default: { exclude: ['http.log'] }, access: { include: ['http.log.access'], writer: { output: 'discard' }, encoder: { format: 'json' } } } },
    });
    const client = await streamClient(k.admin);
    client.res.pause();
    const sent = 400;
    for (let i = 0; i < sent; i++) expect((await send(`http://${k.addresses.big!}/x`)).status).toBe(200);
    // Every exchange was counted, so every one was offered to the stream (the meter and the tap are one turn).
    const counted = async () => metric(parseMetrics((await send(`${k.admin}/metrics`)).body), 'kflog_requests_total');
    expect(await counted()).toBe(sent);
    client.res.resume();
    const missed = await waitFor('a "missed" event', () => client.events().find((e) => e.event === 'missed'));
    const n = (JSON.parse(missed.data) as { missed: number }).missed;
    expect(n).toBeGreaterThan(0);
    // Each exchange either arrived or was counted as missed: none is lost without a word, none sent twice.
    await waitFor(() => `${sent} exchanges received or missed (${client.events().length} events)`,
      () => client.events().filter((e) => e.event === 'exchange').length + n === sent);
    const traces = client.events().filter((e) => e.event === 'exchange').map((e) => JSON.parse(e.data).trace_id as string);
    expect(new Set(traces).size).toBe(traces.length);
  });
});
