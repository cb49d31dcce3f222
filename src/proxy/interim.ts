import type { Duplex } from 'node:stream';
import { buildConnector } from 'undici';

/**
 * undici's HTTP/1.1 client destroys the connection on a `100 Continue` it did not ask for ("bad response"), and it
 * is never asked: kflog strips the client's `Expect` (node has already answered the client's 100 itself), so an
 * upstream's 100 — which HTTP lets a server send anyway, and some always do — would fail the exchange with a 502.
 * HAProxy relays interim responses and delivers the final one. This shim drops an upstream's 100 heads before
 * undici's parser reads them, on the connection's own socket object (so anything keyed by the socket, such as
 * a Kubernetes target's pod, still finds it). Other 1xx heads (103 Early Hints, 101) pass untouched.
 *
 * Only a response's start can hold a 100: the shim looks at what the upstream sends after each request head undici
 * writes (one request at a time on a connection, pipelining 1), and stops looking at the first final status line.
 */

/** undici writes each request head as one latin1 string beginning with its request line. */
const REQUEST_LINE = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+ \S+ HTTP\/1\.1\r\n/;
/** "HTTP/1.1 100 " or "HTTP/1.0 100 ": enough to tell a 100 from any other status. */
const STATUS_PREFIX = 13;
/** A 1xx head larger than this is not looked into: passed on, for undici's own limits to judge. */
const MAX_INTERIM_HEAD = 64 * 1024;

type ReadFn = (size?: number) => unknown;
type WriteFn = (...args: unknown[]) => boolean;

/** Makes `socket` drop upstream `100 Continue` heads before its HTTP reader sees them; returns the same socket. */
export function dropUpstreamContinue<S extends Duplex>(socket: S): S {
  let armed = false;
  let held: Buffer | undefined;
  const write = socket.write as unknown as WriteFn;
  const read = socket.read as ReadFn;

  (socket as unknown as { write: WriteFn }).write = function (this: S, ...args: unknown[]): boolean {
    const chunk = args[0];
    if (typeof chunk === 'string' && REQUEST_LINE.test(chunk.slice(0, 8192))) armed = true;
    return write.apply(this, args);
  };

  /** The part of `data` undici may read now; a 1xx head still incomplete is held back. */
  const filter = (data: Buffer): Buffer => {
    const out: Buffer[] = [];
    let pos = 0;
    while (armed && pos < data.length) {
      const left = data.length - pos;
      if (left < STATUS_PREFIX) {
        if (!isPrefixOfInterim(data, pos)) armed = false;
        break;
      }
      if (!isInterim(data, pos)) {
        armed = false;
        break;
      }
      const end = data.indexOf('\r\n\r\n', pos, 'latin1');
      if (end === -1) {
        if (left > MAX_INTERIM_HEAD) armed = false;
        break;
      }
      const headEnd = end + 4;
      const code = data.toString('latin1', pos + 9, pos + 12);
      if (code !== '100') out.push(data.subarray(pos, headEnd));
      // After a 101 the connection carries another protocol: nothing more to look at.
      if (code === '101') armed = false;
      pos = headEnd;
    }
    if (armed && pos < data.length) {
      held = Buffer.from(data.subarray(pos)); // an interim head not complete yet: wait for the rest
    } else if (pos < data.length) {
      out.push(data.subarray(pos));
    }
    return out.length === 1 ? out[0]! : Buffer.concat(out);
  };

  (socket as unknown as { read: ReadFn }).read = function (this: S, size?: number): unknown {
    for (;;) {
      const chunk = read.call(this, size);
      if (chunk === null || !armed || !Buffer.isBuffer(chunk)) return chunk;
      const data = held === undefined ? chunk : Buffer.concat([held, chunk]);
      held = undefined;
      const passed = filter(data);
      if (passed.length > 0) return passed;
    }
  };
  return socket;
}

function isInterim(data: Buffer, pos: number): boolean {
  // "HTTP/1.x 1"
  return data.toString('latin1', pos, pos + 7) === 'HTTP/1.' && data[pos + 8] === 0x20 && data[pos + 9] === 0x31;
}

function isPrefixOfInterim(data: Buffer, pos: number): boolean {
  const have = data.toString('latin1', pos);
  const model = 'HTTP/1.1 1';
  const n = Math.min(have.length, model.length);
  for (let i = 0; i < n; i++) {
    if (i === 7) {
      if (have[i] !== '0' && have[i] !== '1') return false;
    } else if (have[i] !== model[i]) {
      return false;
    }
  }
  return true;
}

/** undici's connector (or a given one), its sockets fitted with `dropUpstreamContinue`. */
export function interimSafeConnector(connect: buildConnector.connector): buildConnector.connector {
  return (options, callback) =>
    connect(options, (err, socket) => {
      if (err !== null) {
        callback(err, null);
        return;
      }
      callback(null, dropUpstreamContinue(socket as unknown as Duplex) as unknown as typeof socket);
    });
}

export function defaultConnector(timeoutMs: number): buildConnector.connector {
  return buildConnector({ timeout: timeoutMs });
}
