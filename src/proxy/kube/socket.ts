import { Duplex, Readable, Writable } from 'node:stream';
import WebSocket from 'ws';
import { KubeError } from './errors.js';

/** Above this many bytes queued in the WebSocket, writes wait for it to drain (backpressure to undici). */
const SEND_HIGH_WATER = 1024 * 1024;
const SEND_OPTIONS = { binary: true, compress: false } as const;

function noop(): void {}

/**
 * One port-forward stream presented as a TCP socket, for undici's `connect` option.
 *
 * Upstream bytes arrive through `output` (client-node's PortForward writes channel 0 there, port prefix removed);
 * the pod's errors through `errors` (channel 1). Bytes written by undici leave as channel-0 WebSocket messages.
 * Close and errors travel both ways: a WebSocket that closes normally is an end of stream, one that fails or
 * carries an error message destroys the socket with that reason; destroying or ending the socket closes the
 * WebSocket (v4.channel.k8s.io has no half-close: closing it is how a client says it is done).
 */
export class PortForwardSocket extends Duplex {
  readonly pod: string;
  readonly port: number;
  readonly namespace: string;
  /** Receives channel 0 from PortForward. */
  readonly output: Writable;
  /** Receives channel 1 from PortForward. */
  readonly errors: Writable;
  /** PortForward reads stdin from here; it stays silent because this socket sends its own frames. */
  readonly input: Readable;
  private ws: WebSocket | null = null;
  private paused = false;
  private errorText = '';
  /** The error that ended the stream, if one did (for the upstream's "pod lost" decision). */
  failure: Error | undefined;

  constructor(namespace: string, pod: string, port: number) {
    super({ allowHalfOpen: false });
    this.namespace = namespace;
    this.pod = pod;
    this.port = port;
    this.output = new Writable({
      write: (chunk: Buffer, _enc, cb) => {
        if (chunk.length > 0 && !this.push(chunk) && this.ws !== null && !this.paused) {
          this.paused = true;
          this.ws.pause();
        }
        cb();
      },
    });
    this.errors = new Writable({
      write: (chunk: Buffer, _enc, cb) => {
        // The first message on the error channel is the port prefix alone (stripped to nothing by PortForward).
        if (chunk.length > 0) this.onRemoteError(chunk.toString('utf8'));
        cb();
      },
    });
    this.input = new Readable({ read() {} });
    // The pod may refuse (channel 1) before undici holds the socket and listens: the upstream reads `failure`
    // then, and undici checks `errored`; the error must not crash the process meanwhile.
    this.on('error', noop);
  }

  /** Bind the open WebSocket. Messages may already have arrived through `output`. */
  attach(ws: WebSocket): void {
    this.ws = ws;
    if (this.paused) ws.pause();
    ws.on('close', (code: number, reason: Buffer) => this.onClose(code, reason.toString('utf8')));
    ws.on('error', (err: Error) => this.fail(new KubeError(`port-forward stream to pod ${this.where()} failed: ${err.message}`, 'StreamError', { podLevel: true, cause: err })));
    if (ws.readyState !== WebSocket.OPEN) this.onClose(1006, 'closed while opening');
  }

  private where(): string {
    return `${this.namespace}/${this.pod}:${this.port}`;
  }

  private onRemoteError(text: string): void {
    // kubelet: "an error occurred forwarding 8080 -> 8080: error forwarding port 8080 to pod …: connection refused"
    this.errorText += text;
    this.fail(new KubeError(`port-forward to pod ${this.where()}: ${this.errorText.trim()}`, 'PortForwardError', { podLevel: true }));
  }

  private onClose(code: number, reason: string): void {
    if (this.destroyed) return;
    if (code === 1000 || code === 1005) {
      this.push(null); // the pod (or the API server) ended the stream: end of stream, like a FIN
      return;
    }
    const why = reason !== '' ? `${code} ${reason}` : String(code);
    this.fail(new KubeError(`port-forward stream to pod ${this.where()} closed abnormally (${why})`, 'StreamClosed', { podLevel: true }));
  }

  private fail(err: Error): void {
    if (this.destroyed) return;
    this.failure = err;
    this.destroy(err);
  }

  private send(frame: Buffer, cb: (err?: Error | null) => void): void {
    const ws = this.ws;
    if (ws === null || ws.readyState !== WebSocket.OPEN) {
      cb(new KubeError(`port-forward stream to pod ${this.where()} is closed`, 'StreamClosed', { podLevel: true }));
      return;
    }
    if (ws.bufferedAmount > SEND_HIGH_WATER) {
      ws.send(frame, SEND_OPTIONS, cb);
    } else {
      ws.send(frame, SEND_OPTIONS);
      cb();
    }
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    const frame = Buffer.allocUnsafe(chunk.length + 1);
    frame[0] = 0; // data channel of the first (only) port
    chunk.copy(frame, 1);
    this.send(frame, cb);
  }

  // undici corks header + body: one WebSocket message for them all.
  override _writev(chunks: Array<{ chunk: Buffer }>, cb: (err?: Error | null) => void): void {
    let size = 1;
    for (const c of chunks) size += c.chunk.length;
    const frame = Buffer.allocUnsafe(size);
    frame[0] = 0;
    let off = 1;
    for (const c of chunks) off += c.chunk.copy(frame, off);
    this.send(frame, cb);
  }

  override _read(): void {
    if (this.paused && this.ws !== null) {
      this.paused = false;
      this.ws.resume();
    }
  }

  override _final(cb: (err?: Error | null) => void): void {
    this.ws?.close(1000);
    cb();
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    const ws = this.ws;
    if (ws !== null && (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING)) {
      if (err === null) ws.close(1000);
      else ws.terminate();
    }
    this.input.destroy();
    cb(err);
  }

  // The parts of net.Socket's surface that HTTP clients call; a WebSocket stream has no such knobs.
  setKeepAlive(): this {
    return this;
  }
  setNoDelay(): this {
    return this;
  }
  setTimeout(): this {
    return this;
  }
  ref(): this {
    return this;
  }
  unref(): this {
    return this;
  }
}
