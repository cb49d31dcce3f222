import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { undoAfterEach } from '../helpers/cleanup.js';
import '../../src/modules.js';
import { LogQueue, type QueueEvents } from '../../src/emit/queue.js';
import { createWriter } from '../../src/writers/registry.js';
import type { Writer, WriterOptions } from '../../src/writers/writer.js';
import { tempDir } from '../helpers/files.js';
import { waitFor } from '../helpers/wait.js';
import { startEchoKflog } from './proxy.js';

/** A receiver that collects what it is sent, by connection; `paused` makes it stop reading. */
class Receiver {
  readonly server: Server;
  data = '';
  sockets = new Set<Socket>();
  constructor(private paused = false) {
    this.server = createServer((s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
      if (this.paused) s.pause();
      s.on('data', (d) => {
        this.data += d.toString('utf8');
      });
    });
  }
  listen(where: number | string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      if (typeof where === 'string') this.server.listen(where, () => resolve());
      else this.server.listen(where, '127.0.0.1', () => resolve());
    });
  }
  get port(): number {
    return (this.server.address() as { port: number }).port;
  }
  /** Stops listening and cuts every connection. */
  stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
  lines(): string[] {
    return this.data.split('\n').filter((l) => l !== '');
  }
}

async function freePort(): Promise<number> {
  const r = new Receiver();
  await r.listen(0);
  const port = r.port;
  await r.stop();
  return port;
}

interface Driven {
  writer: Writer;
  queue: LogQueue;
  events: string[];
}

/** The writer behind a real LogQueue, as a log drives it. */
function drive(options: WriterOptions, queueBytes = 1 << 20): Driven {
  const writer = createWriter(options);
  const events: string[] = [];
  const ev: QueueEvents = {
    onFailure: (err) => events.push('failure: ' + err.message),
    onRecovery: () => events.push('recovery'),
    onDrop: () => undefined,
  };
  void writer.open().catch(() => undefined);
  return { writer, queue: new LogQueue(writer, queueBytes, ev), events };
}

function pushLines(q: LogQueue, from: number, to: number, pad = 0): void {
  for (let i = from; i < to; i++) q.push(`line ${i}${pad ? ' ' + 'p'.repeat(pad) : ''}\n`);
}

const cleanups = undoAfterEach();

describe('net writer', () => {
  it('sends each entry as one line over TCP, in order', async () => {
    const r = new Receiver();
    await r.listen(0);
    cleanups.push(() => r.stop());
    const d = drive({ output: 'net', address: `tcp/127.0.0.1:${r.port}` });
    pushLines(d.queue, 0, 500);
    await d.queue.close();
    await waitFor('500 lines', () => r.lines().length === 500);
    expect(r.lines()).toEqual(Array.from({ length: 500 }, (_, i) => `line ${i}`));
    expect(d.queue.written).toBe(500);
  });

  it('frames each entry with its length (octet counting), so a multi-line entry stays one message', async () => {
    const r = new Receiver();
    await r.listen(0);
    cleanups.push(() => r.stop());
    const d = drive({ output: 'net', address: `tcp/127.0.0.1:${r.port}`, framing: 'octet-counting' });
    d.queue.push('first\nsecond line of the same entry\n');
    d.queue.push('é\n');
    await d.queue.close();
    const entry = 'first\nsecond line of the same entry';
    await waitFor('both messages', () => r.data.endsWith('2 é'));
    expect(r.data).toBe(`${Buffer.byteLength(entry)} ${entry}2 é`);
  });

  it('writes to a unix stream socket', async () => {
    const t = tempDir('net-unix');
    cleanups.push(t.cleanup);
    const path = join(t.dir, 'collector.sock');
    const r = new Receiver();
    await r.listen(path);
    cleanups.push(() => r.stop());
    const d = drive({ output: 'net', address: `unix/${path}` });
    pushLines(d.queue, 0, 10);
    await d.queue.close();
    await waitFor('10 lines', () => r.lines().length === 10);
    expect(r.lines()[9]).toBe('line 9');
  });

  it('sends one UDP datagram per entry, without its newline', async () => {
    const sock: UdpSocket = createSocket('udp4');
    const got: string[] = [];
    sock.on('message', (m) => got.push(m.toString()));
    await new Promise<void>((resolve) => sock.bind(0, '127.0.0.1', () => resolve()));
    cleanups.push(() => new Promise<void>((resolve) => sock.close(() => resolve())));
    const d = drive({ output: 'net', address: `udp/127.0.0.1:${sock.address().port}` });
    pushLines(d.queue, 0, 20);
    await d.queue.close();
    await waitFor('20 datagrams', () => got.length === 20);
    expect(got[0]).toBe('line 0');
    expect(got[19]).toBe('line 19');
  });

  it('refuses to open without its receiver when soft_start is off', async () => {
    const port = await freePort();
    const w = createWriter({ output: 'net', address: `tcp/127.0.0.1:${port}`, soft_start: false, dial_timeout: '1s' });
    await expect(w.open()).rejects.toThrow(/cannot connect.*ECONNREFUSED/);
    await w.close();
  });

  it('keeps kflog from starting when its receiver is down and soft_start is off', async () => {
    const port = await freePort();
    const logs = { out: { include: ['http.log'], writer: { output: 'syslog', address: `tcp/127.0.0.1:${port}`, soft_start: false, dial_timeout: '500ms' } } };
    await expect(startEchoKflog(logs)).rejects.toThrow(/syslog rfc5424 tcp\/127\.0\.0\.1:\d+: cannot connect \(soft_start is off\)/);
  });

  it('starts without its receiver (soft_start), buffers, and delivers in order once the receiver is up', async () => {
    const port = await freePort();
    const d = drive({ output: 'net', address: `tcp/127.0.0.1:${port}` });
    cleanups.push(() => d.queue.close());
    pushLines(d.queue, 0, 100);
    await waitFor('the fault reported', () => d.events.length === 1);
    expect(d.events[0]).toMatch(/^failure: tcp\/127\.0\.0\.1:\d+: connect ECONNREFUSED/);
    const r = new Receiver();
    await r.listen(port);
    cleanups.push(() => r.stop());
    await waitFor('100 lines', () => r.lines().length === 100);
    expect(r.lines()).toEqual(Array.from({ length: 100 }, (_, i) => `line ${i}`));
    expect(d.events).toEqual([d.events[0], 'recovery']);
  });

  it('buffers while the receiver is away, drops and counts past buffer_bytes, and sends the rest in order on reconnect', async () => {
    const r = new Receiver();
    await r.listen(0);
    const port = r.port;
    const d = drive({ output: 'net', address: `tcp/127.0.0.1:${port}`, buffer_bytes: 10_000 });
    cleanups.push(() => d.queue.close());
    pushLines(d.queue, 0, 50, 90);
    await waitFor('first 50 lines', () => r.lines().length === 50);
    await r.stop();
    await waitFor('the disconnect reported', () => d.events.length === 1);
    // ~100 bytes a line: the 10,000-byte buffer holds about 100 of these 300.
    pushLines(d.queue, 50, 350, 90);
    await d.queue.idle();
    expect(d.queue.dropped).toBeGreaterThan(150);
    expect(d.queue.dropped).toBeLessThan(250);
    const r2 = new Receiver();
    await r2.listen(port);
    cleanups.push(() => r2.stop());
    await waitFor('buffered lines', () => r2.lines().length === 300 - d.queue.dropped);
    pushLines(d.queue, 350, 360, 90);
    await waitFor('later lines', () => r2.lines().length === 310 - d.queue.dropped);
    const numbers = [...r.lines(), ...r2.lines()].map((l) => Number(l.split(' ')[1]));
    // In order, nothing twice, and what is missing is exactly what was counted as dropped.
    expect(numbers).toEqual([...numbers].sort((a, b) => a - b));
    expect(new Set(numbers).size).toBe(numbers.length);
    expect(360 - numbers.length).toBe(d.queue.dropped);
    expect(d.events).toEqual([d.events[0], 'recovery']);
  });

  it('counts buffered entries as failed when it must close with the receiver away', async () => {
    const port = await freePort();
    const d = drive({ output: 'net', address: `tcp/127.0.0.1:${port}`, dial_timeout: '200ms' });
    pushLines(d.queue, 0, 30);
    await d.queue.idle();
    expect(d.queue.written).toBe(30); // taken into the buffer
    await d.queue.close();
    expect({ written: d.queue.written, failed: d.queue.failed, dropped: d.queue.dropped }).toEqual({ written: 0, failed: 30, dropped: 0 });
  });

  it('never stalls on a receiver that stops reading: the buffer fills and entries are dropped and counted', async () => {
    const r = new Receiver(true);
    await r.listen(0);
    cleanups.push(() => r.stop());
    const d = drive({ output: 'net', address: `tcp/127.0.0.1:${r.port}`, buffer_bytes: 65_536, dial_timeout: '300ms' }, 1 << 20);
    cleanups.push(() => d.queue.close());
    await waitFor('connected', () => r.sockets.size === 1);
    const line = 'y'.repeat(1023) + '\n';
    // 64 MiB offered to a socket nobody reads: more than any kernel buffers on loopback.
    for (let round = 0; round < 64; round++) {
      const started = process.hrtime.bigint();
      for (let i = 0; i < 1024; i++) d.queue.push(line);
      // push() is synchronous and returns at once, whatever the writer's state.
      expect(Number(process.hrtime.bigint() - started) / 1e6).toBeLessThan(1000);
      await d.queue.idle();
    }
    expect(d.queue.dropped).toBeGreaterThan(0);
    expect(d.queue.written + d.queue.dropped).toBe(64 * 1024);
  });
});
