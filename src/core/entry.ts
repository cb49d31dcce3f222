/**
 * Typed log entries. Data stays typed until an encoder turns it into bytes, as in Caddy's pipeline:
 * the proxy never formats a line, and every encoder reads the same fields.
 */

export type Level = 'debug' | 'info' | 'warn' | 'error';

export const LEVEL_RANK: Readonly<Record<Level, number>> = { debug: 0, info: 1, warn: 2, error: 3 };

/** Header map as Caddy logs it: the name as the client (or upstream) sent it, every value kept in order. */
export type HeaderMap = Record<string, string[]>;

/** A body as captured by the proxy: at most max_body_bytes of it are kept. */
export interface CapturedBody {
  /** Total bytes seen on the wire (before decoding), whether kept or not. */
  bytes: number;
  /** Kept bytes, as UTF-8 text when they decode cleanly … */
  text?: string;
  /** … or as base64 when they are binary. */
  base64?: string;
  /** True when bytes > what was kept. */
  truncated: boolean;
  content_type?: string;
  /** Set when the kept bytes were decompressed for display: "gzip" | "br" | "deflate". */
  decoded_from?: string;
}

/**
 * The TLS a client used on a `listen_tls` listener: Caddy's `request.tls`, its keys and its value types (numbers
 * where Go's crypto/tls has numbers), so a tool that reads Caddy's access log reads kflog's.
 */
export interface TlsInfo {
  /** The session was resumed (a ticket or PSK), not a full handshake. */
  resumed: boolean;
  /** The protocol version's wire number: 771 TLS 1.2, 772 TLS 1.3 (769 and 770 for 1.0 and 1.1). */
  version: number;
  /** The cipher suite's IANA number (4865 is TLS_AES_128_GCM_SHA256), 0 for one kflog's table lacks. */
  cipher_suite: number;
  /** The ALPN protocol agreed ("http/1.1"), "" when the client offered none. */
  proto: string;
  /** The name the client sent in SNI, "" when it sent none (a client dialling an IP address sends none). */
  server_name: string;
  /** The subject common name of the client's certificate, when it presented one (`listen_tls.client_ca_file`). */
  client_common_name?: string;
  /** That certificate's serial number, in decimal as Caddy writes it. */
  client_serial?: string;
}

/** What the client asked, field names as Caddy's access log. */
export interface RequestInfo {
  remote_ip: string;
  /** A string, as in Caddy's log. */
  remote_port: string;
  /** "HTTP/1.1", "HTTP/1.0". */
  proto: string;
  method: string;
  host: string;
  uri: string;
  headers: HeaderMap;
  body?: CapturedBody;
  /**
   * For a request that could not be parsed: the first line as received (raw, unescaped), so line formats can
   * show what nginx or HAProxy would. Absent for well-formed requests.
   */
  raw_line?: string;
  /**
   * The trace ID this request replays, when the client said so (kflog replay's `kflog-replay-of` header, which
   * the proxy takes off before forwarding). Only a trace-ID-shaped value is taken: it is the client's claim, not
   * proof.
   */
  replay_of?: string;
  /** The TLS of the client's connection; absent for cleartext HTTP. */
  tls?: TlsInfo;
}

/** HAProxy's five timers, in milliseconds, -1 for a phase never reached. */
export interface Timings {
  /** Time to receive the full request headers. */
  tq: number;
  /** Time waiting in queues (always 0: kflog does not queue). */
  tw: number;
  /** Time to establish the upstream connection. */
  tc: number;
  /** Time for the upstream to send its response headers. */
  tr: number;
  /** Total time from accept to end of the exchange. */
  tt: number;
}

/** HAProxy's connection counters at the moment the exchange was logged. */
export interface ConnCounters {
  actconn: number;
  feconn: number;
  beconn: number;
  srv_conn: number;
  retries: number;
}

export interface UpstreamInfo {
  /** host:port actually dialled ("" when none was reached). */
  address: string;
  /** Pod name for Kubernetes targets. */
  pod?: string;
  /** true when the upstream's certificate was not checked (the forward's `tls.insecure_skip_verify`). */
  tls_insecure?: boolean;
  /** "HTTP/2.0" when the exchange went upstream over HTTP/2 (the forward's `versions`); absent for HTTP/1.1. */
  proto?: string;
}

/** Static facts about the forward an exchange went through, shared by all its entries (never copied per entry). */
export interface ForwardInfo {
  /** Forward id: the frontend in HAProxy terms, the last segment of the logger name. */
  id: string;
  /** The port the listener actually bound (differs from config when it said 0). */
  listen_port: number;
  /** Target name: HAProxy's backend ("namespace.service" for Kubernetes, "echo" for builtin, host for url). */
  backend: string;
}

/** What every entry has: when, how severe, whose, and its message. */
export interface EntryHead {
  /** Epoch milliseconds with a sub-millisecond fraction. */
  ts: number;
  level: Level;
  logger: string;
  msg: string;
}

/** What both entries of one exchange carry: its trace ID, its forward and its request. */
export interface ExchangeEntryHead extends EntryHead {
  trace_id: string;
  forward: ForwardInfo;
  request: RequestInfo;
}

/** The request entry: emitted when the request head is in. */
export interface RequestEntry extends ExchangeEntryHead {
  kind: 'request';
}

/** The access entry: emitted once when the exchange ends, success or failure. */
export interface AccessEntry extends ExchangeEntryHead {
  kind: 'access';
  /** Epoch ms when the connection carrying this request was accepted (HAProxy's accept_date). */
  start: number;
  /** Caddy's bytes_read: request body bytes read from the client. */
  bytes_read: number;
  user_id: string;
  /** Seconds, float, from request start to exchange end. */
  duration: number;
  /** Caddy's size: response body bytes sent to the client. */
  size: number;
  /** HAProxy's bytes_read: every byte sent to the client, status line and headers included. */
  bytes_sent: number;
  /** 0 when no response was sent. */
  status: number;
  resp_headers: HeaderMap;
  resp_body?: CapturedBody;
  upstream: UpstreamInfo;
  timings: Timings;
  /** HAProxy's four-character termination state, "----" for a normal end. */
  termination_state: string;
  conn: ConnCounters;
  error?: string;
  /** For 101 exchanges: bytes each way through the tunnel. */
  tunnel?: { bytes_in: number; bytes_out: number };
}

/** kflog's own messages (logger "kflog") and Kubernetes events ("kube.portforward.<id>"). */
export interface ProcessEntry extends EntryHead {
  kind: 'process';
  fields: Record<string, unknown>;
}

export type Entry = RequestEntry | AccessEntry | ProcessEntry;

export const REQUEST_MSG = 'received request';
export const ACCESS_MSG = 'handled request';

/** docs/pipeline.md: an access entry is info, error when the status is ≥ 500 or no response was sent. */
export function accessLevel(status: number): Level {
  return status >= 500 || status === 0 ? 'error' : 'info';
}
