import { deserialize, serialize } from 'node:v8';
import type {
  AccessEntry,
  CapturedBody,
  ConnCounters,
  Entry,
  EntryHead,
  ForwardInfo,
  HeaderMap,
  Level,
  RequestEntry,
  RequestInfo,
  TlsInfo,
  Timings,
} from '../core/entry.js';
import { setOwn } from '../core/own-key.js';

/**
 * The wire format of entries: a compact binary form for handing them from the proxy's event loop to the log side
 * (the log thread, or a cluster's primary process). It is not a log format (those are in src/encoders): it costs
 * the proxy a fraction of what encoding four formats would (strings are copied as UTF-8, numbers as doubles,
 * nothing is escaped or formatted), and is far cheaper than structured clone, which walks every object
 * generically.
 *
 * The stream is stateful: logger names, messages and forwards are defined once and then referred to by number,
 * so batches must be read in the order they were written, by one reader.
 */

/**
 * The flat groups of fields, written in the order of these lists (`satisfies` holds each to its type's keys). The
 * reader builds each group as one object literal in the same order, which gives the object its shape at once
 * (keyed stores cost the read a fifth more); the every-field round trip test holds the two sides to each other.
 */
const REQUEST_STRINGS = ['remote_ip', 'remote_port', 'proto', 'method', 'host', 'uri'] as const satisfies ReadonlyArray<keyof RequestInfo>;
const TIMINGS = ['tq', 'tw', 'tc', 'tr', 'tt'] as const satisfies ReadonlyArray<keyof Timings>;
const CONN_COUNTERS = ['actconn', 'feconn', 'beconn', 'srv_conn', 'retries'] as const satisfies ReadonlyArray<keyof ConnCounters>;

const TAG_REQUEST = 1;
const TAG_ACCESS = 2;
const TAG_PROCESS = 3;
const TAG_DEFINE_STRING = 4;
const TAG_DEFINE_FORWARD = 5;

const LEVELS: readonly Level[] = ['debug', 'info', 'warn', 'error'];
const LEVEL_CODE: Readonly<Record<Level, number>> = { debug: 0, info: 1, warn: 2, error: 3 };

const BODY_TEXT = 1;
const BODY_BASE64 = 2;
const BODY_TRUNCATED = 4;
const BODY_CONTENT_TYPE = 8;
const BODY_DECODED_FROM = 16;

const REQ_BODY = 1;
const REQ_RAW_LINE = 2;
/** The request was sent with the request entry before: only its number (and a body captured since) follow. */
const REQ_SENT_BEFORE = 4;
const REQ_REPLAY_OF = 8;
const REQ_TLS = 16;

const TLS_RESUMED = 1;
const TLS_CLIENT_CN = 2;
const TLS_CLIENT_SERIAL = 4;

/**
 * Requests the reader remembers, by sequence number modulo this: an access entry refers to its request entry's
 * request instead of repeating it, when the request is still among the last RECENT_REQUESTS sent.
 */
const RECENT_REQUESTS = 4096;

const ACC_RESP_BODY = 1;
const ACC_ERROR = 2;
const ACC_TUNNEL = 4;
const ACC_POD = 8;
const ACC_TLS_INSECURE = 16;
const ACC_UPSTREAM_PROTO = 32;

/** Interned strings (logger names, messages) are few and fixed by the config; this only guards against a leak. */
const MAX_INTERNED = 65_536;
const MIN_BUFFER = 64 * 1024;
/** The largest buffer a batch starts in, and a given-back buffer is kept. */
const MAX_FREE_BUFFER = 4 << 20;
/** Given-back buffers kept at most: about what is in flight at once when the log side keeps up. */
const MAX_FREE = 8;
/** Below this length a string is copied by a JS loop (when ASCII), above it by Buffer.write. */
const SHORT_STRING = 64;
/** High bit of a string's length: its bytes are UTF-16LE (it has a lone surrogate), not UTF-8. */
const UTF16 = 0x80000000;

/** Appends entries to a growing buffer; take() hands the bytes over (the buffer is never reused after). */
export class WireWriter {
  private buf: Buffer = Buffer.allocUnsafeSlow(MIN_BUFFER);
  /** Buffers given back by the log side (recycle()), for the next batches. */
  private readonly free: Buffer[] = [];
  /** The same bytes, for numbers: DataView's setters compile to a store, Buffer's writeXxx check their arguments. */
  private view = viewOf(this.buf);
  private pos = 0;
  private readonly strings = new Map<string, number>();
  private readonly forwards = new Map<ForwardInfo, number>();
  /**
   * Sequence number of each request sent in full and not yet referred to (the reader holds it until then, among
   * the last RECENT_REQUESTS).
   */
  private readonly sentRequests = new WeakMap<RequestInfo, number>();
  private requestSeq = 0;

  get size(): number {
    return this.pos;
  }

  /**
   * The pending bytes, or undefined when there are none. Their buffer goes with them (transferred, or kept until
   * sent), so it is never much larger than its bytes: the in-flight bound counts bytes. Buffers the log side gave
   * back (recycle()) are used first, for the batch or for the writer to go on in.
   */
  take(): Buffer | undefined {
    if (this.pos === 0) return undefined;
    const size = this.pos;
    this.pos = 0;
    if (this.buf.length - size > size >> 2) {
      // Much larger than its bytes: the batch is copied into a buffer of its size, and the writer goes on in this one.
      const out = this.freeFitting(size) ?? Buffer.allocUnsafeSlow(size);
      this.buf.copy(out, 0, 0, size);
      return out.subarray(0, size);
    }
    const out = this.buf.subarray(0, size);
    this.buf = this.free.pop() ?? Buffer.allocUnsafeSlow(Math.max(MIN_BUFFER, Math.min(size * 2, MAX_FREE_BUFFER)));
    this.view = viewOf(this.buf);
    return out;
  }

  /** A given-back buffer that holds `size` bytes with at most a quarter to spare, taken out of the free ones. */
  private freeFitting(size: number): Buffer | undefined {
    const i = this.free.findIndex((b) => b.length >= size && b.length - size <= size >> 2);
    return i === -1 ? undefined : this.free.splice(i, 1)[0];
  }

  /** A batch's buffer the log side has read, to write later batches into; kept while few (MAX_FREE, MAX_FREE_BUFFER). */
  recycle(buffer: ArrayBuffer): void {
    if (this.free.length < MAX_FREE && buffer.byteLength >= MIN_BUFFER && buffer.byteLength <= MAX_FREE_BUFFER) this.free.push(Buffer.from(buffer));
  }

  /** Appends one entry for pipeline `pipe`. */
  write(pipe: number, entry: Entry): void {
    // Interned first: a string's or a forward's definition goes into the stream before the entry that refers to it.
    const logger = this.intern(entry.logger);
    const msg = this.intern(entry.msg);
    if (entry.kind === 'process') {
      // Rare and free-form: v8's serializer keeps what JSON would lose (undefined, Error, bigint).
      const fields = serialize(entry.fields);
      this.head(TAG_PROCESS, pipe, entry, logger, msg);
      this.room(4 + fields.length);
      this.u32(fields.length);
      this.pos += fields.copy(this.buf, this.pos);
      return;
    }
    const forward = this.forward(entry.forward);
    this.head(entry.kind === 'request' ? TAG_REQUEST : TAG_ACCESS, pipe, entry, logger, msg);
    this.str(entry.trace_id);
    this.u32(forward);
    this.request(entry.request);
    if (entry.kind === 'access') this.access(entry);
  }

  /** What every entry begins with: its tag, its pipeline, and its EntryHead (logger and msg as interned ids). */
  private head(tag: number, pipe: number, entry: EntryHead, logger: number, msg: number): void {
    this.u8(tag);
    this.u32(pipe);
    this.f64(entry.ts);
    this.u8(LEVEL_CODE[entry.level]);
    this.u32(logger);
    this.u32(msg);
  }

  private request(r: RequestInfo): void {
    const seq = this.sentRequests.get(r);
    if (seq !== undefined && this.requestSeq - seq < RECENT_REQUESTS) {
      // The access entry of an exchange whose request entry went before: the same object, possibly with the
      // request body captured since. The reader forgets it once referred to, and so does this side: a later
      // entry with the same request sends it in full.
      this.sentRequests.delete(r);
      this.u8(REQ_SENT_BEFORE | (r.body !== undefined ? REQ_BODY : 0));
      this.u32(seq % RECENT_REQUESTS);
      if (r.body !== undefined) this.body(r.body);
      return;
    }
    this.u8((r.body !== undefined ? REQ_BODY : 0) | (r.raw_line !== undefined ? REQ_RAW_LINE : 0) |
      (r.replay_of !== undefined ? REQ_REPLAY_OF : 0) | (r.tls !== undefined ? REQ_TLS : 0));
    this.sentRequests.set(r, ++this.requestSeq);
    for (const key of REQUEST_STRINGS) this.str(r[key]);
    this.headers(r.headers);
    if (r.body !== undefined) this.body(r.body);
    if (r.raw_line !== undefined) this.str(r.raw_line);
    if (r.replay_of !== undefined) this.str(r.replay_of);
    if (r.tls !== undefined) this.tls(r.tls);
  }

  private tls(t: TlsInfo): void {
    this.u8((t.resumed ? TLS_RESUMED : 0) | (t.client_common_name !== undefined ? TLS_CLIENT_CN : 0) |
      (t.client_serial !== undefined ? TLS_CLIENT_SERIAL : 0));
    this.u32(t.version);
    this.u32(t.cipher_suite);
    this.str(t.proto);
    this.str(t.server_name);
    if (t.client_common_name !== undefined) this.str(t.client_common_name);
    if (t.client_serial !== undefined) this.str(t.client_serial);
  }

  private access(e: AccessEntry): void {
    this.f64(e.start);
    this.f64(e.bytes_read);
    this.str(e.user_id);
    this.f64(e.duration);
    this.f64(e.size);
    this.f64(e.bytes_sent);
    this.f64(e.status);
    this.headers(e.resp_headers);
    this.str(e.upstream.address);
    for (const key of TIMINGS) this.f64(e.timings[key]);
    this.str(e.termination_state);
    for (const key of CONN_COUNTERS) this.f64(e.conn[key]);
    const flags =
      (e.resp_body !== undefined ? ACC_RESP_BODY : 0) |
      (e.error !== undefined ? ACC_ERROR : 0) |
      (e.tunnel !== undefined ? ACC_TUNNEL : 0) |
      (e.upstream.pod !== undefined ? ACC_POD : 0) |
      (e.upstream.tls_insecure === true ? ACC_TLS_INSECURE : 0) |
      (e.upstream.proto !== undefined ? ACC_UPSTREAM_PROTO : 0);
    this.u8(flags);
    if (e.resp_body !== undefined) this.body(e.resp_body);
    if (e.error !== undefined) this.str(e.error);
    if (e.tunnel !== undefined) {
      this.f64(e.tunnel.bytes_in);
      this.f64(e.tunnel.bytes_out);
    }
    if (e.upstream.pod !== undefined) this.str(e.upstream.pod);
    if (e.upstream.proto !== undefined) this.str(e.upstream.proto);
  }

  private headers(h: HeaderMap): void {
    // The count goes first but is known only at the end: a for-in walk allocates no key array.
    const at = this.pos;
    this.u32(0);
    let names = 0;
    for (const name in h) {
      const values = h[name]!;
      this.str(name);
      this.u32(values.length);
      for (let j = 0; j < values.length; j++) this.str(values[j]!);
      names++;
    }
    this.view.setUint32(at, names, true);
  }

  private body(b: CapturedBody): void {
    this.f64(b.bytes);
    this.u8(
      (b.text !== undefined ? BODY_TEXT : 0) |
        (b.base64 !== undefined ? BODY_BASE64 : 0) |
        (b.truncated ? BODY_TRUNCATED : 0) |
        (b.content_type !== undefined ? BODY_CONTENT_TYPE : 0) |
        (b.decoded_from !== undefined ? BODY_DECODED_FROM : 0),
    );
    if (b.text !== undefined) this.str(b.text);
    if (b.base64 !== undefined) this.str(b.base64);
    if (b.content_type !== undefined) this.str(b.content_type);
    if (b.decoded_from !== undefined) this.str(b.decoded_from);
  }

  /** A number for a string that recurs in every entry; defined in the stream the first time it is seen. */
  private intern(s: string): number {
    const known = this.strings.get(s);
    if (known !== undefined) return known;
    const id = this.define(this.strings, s, TAG_DEFINE_STRING);
    this.str(s);
    return id;
  }

  /** Forwards are static per config; sent once each (a reload brings new ForwardInfo objects). */
  private forward(f: ForwardInfo): number {
    const known = this.forwards.get(f);
    if (known !== undefined) return known;
    const id = this.define(this.forwards, f, TAG_DEFINE_FORWARD);
    this.str(f.id);
    this.f64(f.listen_port);
    this.str(f.backend);
    return id;
  }

  /**
   * Numbers `key` and writes the head of its definition (the caller writes the value after it). The table starts
   * over past MAX_INTERNED, so a leak of distinct values cannot grow it for ever (the reader
   * overwrites a number defined again).
   */
  private define<K>(table: Map<K, number>, key: K, tag: number): number {
    if (table.size >= MAX_INTERNED) table.clear();
    const id = table.size;
    table.set(key, id);
    this.u8(tag);
    this.u32(id);
    return id;
  }

  private room(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const grown = Buffer.allocUnsafeSlow(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(grown, 0, 0, this.pos);
    this.buf = grown;
    this.view = viewOf(grown);
  }

  private u8(v: number): void {
    this.room(1);
    this.buf[this.pos++] = v;
  }

  private u32(v: number): void {
    this.room(4);
    this.view.setUint32(this.pos, v, true);
    this.pos += 4;
  }

  private f64(v: number): void {
    this.room(8);
    this.view.setFloat64(this.pos, v, true);
    this.pos += 8;
  }

  private str(s: string): void {
    const len = s.length;
    // Worst case 3 bytes a UTF-16 unit; the length is written after the bytes are.
    this.room(4 + len * 3);
    const buf = this.buf;
    const start = this.pos + 4;
    let n = 0;
    if (len < SHORT_STRING) {
      // Most fields are short ASCII: a loop here beats a call into C++ per string.
      for (; n < len; n++) {
        const c = s.charCodeAt(n);
        if (c >= 0x80) break;
        buf[start + n] = c;
      }
    }
    let length: number;
    if (n === len) {
      length = n;
    } else if ((s as unknown as WellFormedCheck).isWellFormed()) {
      length = n = buf.write(s, start);
    } else {
      // A lone surrogate has no UTF-8 form: such a string goes as UTF-16, so it comes out exactly as it went in.
      n = buf.write(s, start, 'utf16le');
      length = n | UTF16;
    }
    buf[this.pos] = length & 0xff;
    buf[this.pos + 1] = (length >>> 8) & 0xff;
    buf[this.pos + 2] = (length >>> 16) & 0xff;
    buf[this.pos + 3] = length >>> 24;
    this.pos = start + n;
  }
}

function viewOf(buf: Buffer): DataView {
  return new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
}

/** String#isWellFormed (Node 20; typed from lib es2024, newer than this project's target). */
interface WellFormedCheck {
  isWellFormed(): boolean;
}

/** Buffer's own decoding method (public since Node 0.x, missing from @types/node). */
interface SliceableBuffer extends Buffer {
  utf8Slice(start: number, end: number): string;
}

/** Reads what WireWriter wrote, in order. */
export class WireReader {
  private readonly strings: string[] = [];
  private readonly forwards: ForwardInfo[] = [];
  /**
   * Requests whose access entry has not come yet, by sequence number modulo RECENT_REQUESTS. Taken out when
   * referred to, so a request dies with its access entry instead of outliving thousands of later ones (which
   * would promote every request to the old generation and keep the log thread's major GC busy).
   */
  private readonly recent = new Map<number, RequestInfo>();
  private requestSeq = 0;
  private buf: Buffer = Buffer.alloc(0);
  private view = viewOf(this.buf);
  private pos = 0;

  /** Calls `each` for every entry of the batch, with the pipeline number it was written for. */
  read(batch: Buffer, each: (pipe: number, entry: Entry) => void): void {
    this.buf = batch;
    this.view = viewOf(batch);
    this.pos = 0;
    while (this.pos < batch.length) {
      const tag = this.u8();
      switch (tag) {
        case TAG_DEFINE_STRING: {
          const id = this.u32();
          this.strings[id] = this.str();
          break;
        }
        case TAG_DEFINE_FORWARD: {
          const id = this.u32();
          this.forwards[id] = { id: this.str(), listen_port: this.f64(), backend: this.str() };
          break;
        }
        case TAG_REQUEST:
        case TAG_ACCESS:
        case TAG_PROCESS:
          this.entry(tag, each);
          break;
        default:
          throw new Error(`entry stream corrupt: tag ${tag} at byte ${this.pos - 1}`);
      }
    }
  }

  /** One entry, its tag read: the head every entry has, then what its kind carries. */
  private entry(tag: number, each: (pipe: number, entry: Entry) => void): void {
    const pipe = this.u32();
    const ts = this.f64();
    const level = LEVELS[this.u8()]!;
    const logger = this.strings[this.u32()]!;
    const msg = this.strings[this.u32()]!;
    if (tag === TAG_PROCESS) {
      const n = this.u32();
      const fields = deserialize(this.buf.subarray(this.pos, this.pos + n)) as Record<string, unknown>;
      this.pos += n;
      each(pipe, { kind: 'process', ts, level, logger, msg, fields });
      return;
    }
    const trace_id = this.str();
    const forward = this.forwards[this.u32()]!;
    const request = this.request();
    if (tag === TAG_REQUEST) {
      const entry: RequestEntry = { kind: 'request', ts, level, logger, msg, trace_id, forward, request };
      each(pipe, entry);
    } else {
      each(pipe, this.access(ts, level, logger, msg, trace_id, forward, request));
    }
  }

  private request(): RequestInfo {
    const flags = this.u8();
    if (flags & REQ_SENT_BEFORE) {
      const id = this.u32();
      const r = this.recent.get(id)!;
      this.recent.delete(id);
      return flags & REQ_BODY ? { ...r, body: this.body() } : r;
    }
    // In REQUEST_STRINGS' order.
    const r: RequestInfo = {
      remote_ip: this.str(),
      remote_port: this.str(),
      proto: this.str(),
      method: this.str(),
      host: this.str(),
      uri: this.str(),
      headers: this.headers(),
    };
    if (flags & REQ_BODY) r.body = this.body();
    if (flags & REQ_RAW_LINE) r.raw_line = this.str();
    if (flags & REQ_REPLAY_OF) r.replay_of = this.str();
    if (flags & REQ_TLS) r.tls = this.tls();
    this.recent.set(++this.requestSeq % RECENT_REQUESTS, r);
    return r;
  }

  private tls(): TlsInfo {
    const flags = this.u8();
    const t: TlsInfo = { resumed: (flags & TLS_RESUMED) !== 0, version: this.u32(), cipher_suite: this.u32(), proto: this.str(), server_name: this.str() };
    if (flags & TLS_CLIENT_CN) t.client_common_name = this.str();
    if (flags & TLS_CLIENT_SERIAL) t.client_serial = this.str();
    return t;
  }

  private access(
    ts: number,
    level: Level,
    logger: string,
    msg: string,
    trace_id: string,
    forward: ForwardInfo,
    request: RequestInfo,
  ): AccessEntry {
    const start = this.f64();
    const bytes_read = this.f64();
    const user_id = this.str();
    const duration = this.f64();
    const size = this.f64();
    const bytes_sent = this.f64();
    const status = this.f64();
    const resp_headers = this.headers();
    const address = this.str();
    const timings: Timings = { tq: this.f64(), tw: this.f64(), tc: this.f64(), tr: this.f64(), tt: this.f64() };
    const termination_state = this.str();
    const conn: ConnCounters = { actconn: this.f64(), feconn: this.f64(), beconn: this.f64(), srv_conn: this.f64(), retries: this.f64() };
    const e: AccessEntry = {
      kind: 'access',
      ts,
      level,
      logger,
      msg,
      trace_id,
      forward,
      request,
      start,
      bytes_read,
      user_id,
      duration,
      size,
      bytes_sent,
      status,
      resp_headers,
      upstream: { address },
      timings,
      termination_state,
      conn,
    };
    const flags = this.u8();
    if (flags & ACC_RESP_BODY) e.resp_body = this.body();
    if (flags & ACC_ERROR) e.error = this.str();
    if (flags & ACC_TUNNEL) e.tunnel = { bytes_in: this.f64(), bytes_out: this.f64() };
    if (flags & ACC_POD) e.upstream.pod = this.str();
    if (flags & ACC_TLS_INSECURE) e.upstream.tls_insecure = true;
    if (flags & ACC_UPSTREAM_PROTO) e.upstream.proto = this.str();
    return e;
  }

  private headers(): HeaderMap {
    const h: HeaderMap = {};
    const n = this.u32();
    for (let i = 0; i < n; i++) {
      const name = this.str();
      const count = this.u32();
      const values: string[] = new Array<string>(count);
      for (let j = 0; j < count; j++) values[j] = this.str();
      setOwn(h, name, values);
    }
    return h;
  }

  private body(): CapturedBody {
    const bytes = this.f64();
    const flags = this.u8();
    const b: CapturedBody = { bytes, truncated: (flags & BODY_TRUNCATED) !== 0 };
    if (flags & BODY_TEXT) b.text = this.str();
    if (flags & BODY_BASE64) b.base64 = this.str();
    if (flags & BODY_CONTENT_TYPE) b.content_type = this.str();
    if (flags & BODY_DECODED_FROM) b.decoded_from = this.str();
    return b;
  }

  private u8(): number {
    return this.buf[this.pos++]!;
  }

  private u32(): number {
    const v = this.view.getUint32(this.pos, true);
    this.pos += 4;
    return v;
  }

  private f64(): number {
    const v = this.view.getFloat64(this.pos, true);
    this.pos += 8;
    return v;
  }

  private str(): string {
    const length = this.u32();
    if (length & UTF16) {
      const bytes = length & ~UTF16;
      const s = this.buf.toString('utf16le', this.pos, this.pos + bytes);
      this.pos += bytes;
      return s;
    }
    const n = length;
    // Straight to the binding: Buffer#toString's argument checks cost as much as the copy of a short string.
    const s = (this.buf as SliceableBuffer).utf8Slice(this.pos, this.pos + n);
    this.pos += n;
    return s;
  }
}
