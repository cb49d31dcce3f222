import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * The benchmark upstream, run as its own process so it never shares kflog's event loop: GET → the 34-byte JSON
 * of the measurements; /bytes/N streams N bytes. Prints its port on stdout.
 */
const USERS = Buffer.from('{"users":[{"id":1,"name":"John"}]}');
const CHUNK = Buffer.alloc(256 * 1024, 0x62);

const server = createServer({ keepAliveTimeout: 60_000 }, (req, res) => {
  const m = /^\/bytes\/(\d+)/.exec(req.url ?? '');
  if (m) {
    let left = Number(m[1]);
    res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': left });
    const pump = (): void => {
      while (left > 0) {
        const n = Math.min(left, CHUNK.length);
        left -= n;
        if (!res.write(n === CHUNK.length ? CHUNK : CHUNK.subarray(0, n))) {
          res.once('drain', pump);
          return;
        }
      }
      res.end();
    };
    pump();
    return;
  }
  if (req.method === 'POST' || req.method === 'PUT') {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': USERS.length });
      res.end(USERS);
    });
    return;
  }
  res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': USERS.length });
  res.end(USERS);
});

server.listen(Number(process.argv[2] ?? 0), '127.0.0.1', () => {
  process.stdout.write(`${(server.address() as AddressInfo).port}\n`);
});
process.on('SIGTERM', () => process.exit(0));
