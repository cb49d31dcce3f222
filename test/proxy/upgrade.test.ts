import { createHash } from 'node:crypto';
import { once } from 'node:events';
import type { Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'undici';
import { rawClient } from '../helpers/http.js';
import { onRequestHead, startRawUpstream, startUpstream, type RawUpstream, type Upstream } from '../helpers/upstream.js';
import { waitFor } from '../helpers/wait.js';
import { startProxy, type Harness } from './helpers.js';

let proxy: Harness | undefined;
let upstream: Upstream | RawUpstream | undefined;
afterEach(async () => {
  await proxy?.stop();
  await upstream?.close();
  proxy = undefined;
  upstream = undefined;
});

/** Bytes a WebSocket upstream saw and sent after its 101, to check the tunnel's counts against. */
interface WsCounts {
  received: number;
  sent: number;
  socket?: Socket;
}

/**
 * A minimal RFC 6455 echo server: handshake, then each text frame from the client (masked, < 64 KiB) is answered
 * "echo: <text>"; a close frame is answered with a close frame and the connection ends.
 */
async function startWsEcho(counts: WsCounts): Promise<Upstream> {
  const u = await startUpstream((_req, res) => res.writeHead(426).end());
  u.server.on('upgrade', (req, socket: Socket, head: Buffer) => {
    counts.socket = socket;
    const accept = createHash('sha1').update(String(req.headers['sec-websocket-key']) + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11').digest('base64');
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
    let buf = head;
    counts.received += head.length;
    const send = (frame: Buffer): void => {
      counts.sent += frame.length;
      socket.write(frame);
    };
    socket.on('data', (d: Buffer) => {
      counts.received += d.length;
      buf = Buffer.concat([buf, d]);
      for (;;) {
        if (buf.length < 2) return;
        const opcode = buf[0]! & 0x0f;
        let len = buf[1]! & 0x7f;
        let off = 2;
        if (len === 126) {
          len = buf.readUInt16BE(2);
          off = 4;
        }
        if (buf.length < off + 4 + len) return;
        const mask = buf.subarray(off, off + 4);
        const payload = Buffer.from(buf.subarray(off + 4, off + 4 + len));
        for (let i = 0; i < payload.length; i++) payload[i]! ^= mask[i % 4]!;
        buf = buf.subarray(off + 4 + len);
        if (opcode === 8) {
          send(Buffer.from([0x88, 0x00]));
          socket.end();
          return;
        }
        const out = Buffer.concat([Buffer.from('echo: '), payload]);
        send(Buffer.concat([Buffer.from(out.length < 126 ? [0x81, out.length] : [0x81, 126, out.length >> 8, out.length & 0xff]), out]));
      }
    });
    socket.on('error', () => undefined);
  });
  return u;
}

describe('Upgrade requests', () => {
  it('a WebSocket is tunnelled both ways and logged once, when it closes, with its bytes each way', async () => {
    const counts: WsCounts = { received: 0, sent: 0 };
    upstream = await startWsEcho(counts);
    proxy = await startProxy({ target: { url: upstream.url } });
    const ws = new WebSocket(`ws://127.0.0.1:${proxy.port}/ws/chat`);
    await once(ws as unknown as EventTarget, 'open');
    const replies: string[] = [];
    ws.addEventListener('message', (ev) => replies.push(String(ev.data)));
    ws.send('hello');
    ws.send('x'.repeat(300));
    await waitFor(() => `${replies.length} replies`, () => replies.length === 2, 5000);
    expect(replies).toEqual(['echo: hello', 'echo: ' + 'x'.repeat(300)]);
    // While the tunnel is open: its request entry is out, its access entry is not.
    expect(proxy.requests().map((e) => e.request.uri)).toEqual(['/ws/chat']);
    expect(proxy.access()).toHaveLength(0);
    await new Promise((r) => setTimeout(r, 100));
    ws.close(1000);
    await once(ws as unknown as EventTarget, 'close');

    const [e] = await proxy.waitAccess(1);
    expect(e!.status).toBe(101);
    expect(e!.termination_state).toBe('----');
    expect(e!.trace_id).toBe(proxy.requests()[0]!.trace_id);
    expect(e!.resp_headers['Upgrade']).toEqual(['websocket']);
    expect(e!.tunnel).toEqual({ bytes_in: counts.received, bytes_out: counts.sent });
    expect(e!.tunnel!.bytes_in).toBeGreaterThan(300);
    expect(e!.duration).toBeGreaterThanOrEqual(0.1);
    expect(e!.timings.tr).toBeGreaterThanOrEqual(0);
    expect(e!.timings.tt).toBeGreaterThanOrEqual(100);
  });

  it('bytes sent with the upgrade request itself reach the upstream, and other protocols tunnel too', async () => {
    let upstreamGot = '';
    upstream = await startRawUpstream((s) =>
      onRequestHead(s, (head) => {
        expect(head).toMatch(/upgrade: echo-proto/i);
        s.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: echo-proto\r\nConnection: Upgrade\r\n\r\n');
        s.on('data', (d: Buffer) => {
          upstreamGot += d.toString();
          s.write(d.toString().toUpperCase());
          if (upstreamGot.includes('bye')) s.end();
        });
      }));
    proxy = await startProxy({ target: { url: upstream.url } });
    const c = await rawClient(proxy.port);
    c.socket.write('GET /tunnel HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: echo-proto\r\n\r\nearly bytes;');
    await c.waitFor('EARLY BYTES;');
    c.socket.write('bye');
    await c.waitFor('BYE');
    c.socket.end();
    await c.closed;
    const [e] = await proxy.waitAccess(1);
    expect(e!.status).toBe(101);
    expect(e!.termination_state).toBe('----');
    expect(e!.tunnel).toEqual({ bytes_in: 'early bytes;bye'.length, bytes_out: 'early bytes;bye'.length });
  });

  it('an upstream declining the upgrade has its answer relayed and logged, with no tunnel', async () => {
    upstream = await startRawUpstream((s) =>
      onRequestHead(s, () => s.end('HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nContent-Length: 6\r\n\r\nno way')));
    proxy = await startProxy({ target: { url: upstream.url } });
    const c = await rawClient(proxy.port);
    c.socket.write('GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n');
    await c.closed;
    expect(c.received().toString()).toMatch(/^HTTP\/1.1 403 Forbidden\r\n[\s\S]*\r\n\r\nno way$/);
    const [e] = await proxy.waitAccess(1);
    expect(e!.status).toBe(403);
    expect(e!.size).toBe(6);
    expect(e!.tunnel).toBeUndefined();
    expect(e!.termination_state).toBe('----');
    expect(e!.bytes_sent).toBe(c.received().length);
  });

  it('an upgrade to an upstream that refuses the connection is a 502 SC--', async () => {
    upstream = await startRawUpstream(() => undefined);
    const port = upstream.port;
    await upstream.close();
    upstream = undefined;
    proxy = await startProxy({ target: { url: `http://127.0.0.1:${port}` } });
    const c = await rawClient(proxy.port);
    c.socket.write('GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n');
    await c.closed;
    expect(c.received().toString()).toMatch(/^HTTP\/1.1 502 /);
    const [e] = await proxy.waitAccess(1);
    expect(e!.status).toBe(502);
    expect(e!.termination_state).toBe('SC--');
    expect(e!.timings).toMatchObject({ tc: -1, tr: -1 });
  });

  it('an upstream resetting an open tunnel ends it SD--', async () => {
    const counts: WsCounts = { received: 0, sent: 0 };
    upstream = await startWsEcho(counts);
    proxy = await startProxy({ target: { url: upstream.url } });
    const ws = new WebSocket(`ws://127.0.0.1:${proxy.port}/ws`);
    ws.addEventListener('error', () => undefined);
    await once(ws as unknown as EventTarget, 'open');
    counts.socket!.resetAndDestroy();
    await once(ws as unknown as EventTarget, 'close');
    const [e] = await proxy.waitAccess(1);
    expect(e!.status).toBe(101);
    expect(e!.termination_state).toBe('SD--');
    expect(e!.error).toMatch(/upstream/);
  });

  it('a tunnel still open at shutdown is cut at the deadline and logged KD--', async () => {
    const counts: WsCounts = { received: 0, sent: 0 };
    upstream = await startWsEcho(counts);
    proxy = await startProxy({ target: { url: upstream.url } });
    const ws = new WebSocket(`ws://127.0.0.1:${proxy.port}/ws`);
    ws.addEventListener('error', () => undefined);
    await once(ws as unknown as EventTarget, 'open');
    await proxy.app.stop(200);
    const access = proxy.access();
    expect(access).toHaveLength(1);
    expect(access[0]!.termination_state).toBe('KD--');
  });
});
