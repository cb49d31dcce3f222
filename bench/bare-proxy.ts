import cluster from 'node:cluster';
import { createServer } from 'node:http';
import { Pool } from 'undici';

/**
 * The floor a Node proxy stands on: node:http in, undici's Pool out, bodies piped, no logging and none of kflog's
 * work (no hop-by-hop filtering, timings, error classification). The issue quotes "a bare Node proxy on undici's
 * Pool, no logging" as a reference; run beside kflog it shows what kflog itself costs, and with two processes
 * (node:cluster, the primary handing connections round-robin) what a second event loop buys on the machine.
 *
 *   node dist/bench/bare-proxy.js <port> <upstream port> [processes]
 */
const [port = 0, upstreamPort = 0, processes = 1] = process.argv.slice(2).map(Number);

if (processes > 1 && cluster.isPrimary) {
  for (let i = 0; i < processes; i++) cluster.fork();
  // The bench stops contestants with SIGTERM: the workers go with the primary.
  process.on('SIGTERM', () => {
    for (const w of Object.values(cluster.workers ?? {})) w?.kill('SIGTERM');
    process.exit(0);
  });
} else {
  const pool = new Pool(`http://127.0.0.1:${upstreamPort}`, { connections: 256 });
  createServer((req, res) => {
    pool.request({ path: req.url ?? '/', method: req.method as 'GET', headers: req.headers, body: req.method === 'GET' ? null : req }).then(
      ({ statusCode, headers, body }) => {
        res.writeHead(statusCode, headers as Record<string, string | string[]>);
        body.pipe(res);
      },
      () => {
        res.statusCode = 502;
        res.end();
      },
    );
  }).listen(port, '127.0.0.1');
}
