import type { Level } from '../core/entry.js';
import type { EncoderOptions } from '../encoders/encoder.js';
import type { WriterOptions } from '../writers/writer.js';
import type { ParsedListenTls, RawListenTls } from './listen-tls.js';
import type { RawUpstreamTls, UpstreamTls } from './upstream-tls.js';

/** The config as written in kflog.json (after schema validation). */
export interface RawConfig {
  $schema?: string;
  forwards: RawForward[];
  logging?: { logs?: Record<string, RawLog>; thread?: boolean; output_deadline?: string };
  shutdown_timeout?: string;
  listener_processes?: number;
  trace_id?: 'v7' | 'v4';
  admin?: false | { listen?: string; token?: string };
}

export interface KubeTargetConfig {
  kubeconfig?: string;
  context?: string;
  namespace?: string;
  service?: string;
  pod?: string;
  selector?: string;
  port: number | string;
}

export type TargetConfig = { url: string } | { builtin: 'echo' } | { kube: KubeTargetConfig };

/** A listener protocol, Caddy's server `protocols` names. */
export type ListenProtocol = 'h1' | 'h2' | 'h2c';
/** An upstream HTTP version, Caddy's reverse_proxy transport `versions` names. */
export type UpstreamVersion = '1.1' | '2' | 'h2c';

export interface SkipRule {
  path_prefix?: string;
  method?: string;
  status?: number | string;
}

export interface RawForward {
  id: string;
  listen: string;
  target: TargetConfig;
  tls?: RawUpstreamTls;
  listen_tls?: RawListenTls;
  capture?: { request_body?: boolean; response_body?: boolean; max_body_bytes?: number };
  timeouts?: { connect?: string; headers?: string; body?: string; idle?: string };
  retries?: number;
  abort_on_close?: boolean;
  protocols?: ListenProtocol[];
  versions?: UpstreamVersion[];
  skip?: SkipRule[];
  log?: false | (EncoderOptions & { filename?: string; writer?: WriterOptions; log_credentials?: boolean });
}

export interface RawLog {
  writer?: WriterOptions;
  encoder?: EncoderOptions;
  level?: Level;
  include?: string[];
  exclude?: string[];
  sampling?: { interval?: string; first?: number; thereafter?: number };
  log_credentials?: boolean;
  queue_bytes?: number;
}

/** kflog's own HTTP listener (/metrics, /api/…). */
export interface AdminConfig {
  host: string;
  port: number;
  /** The config wrote `admin.listen`: failing to bind it fails the start (the default gives way to another kflog). */
  explicit: boolean;
  /** Every request must carry `Authorization: Bearer <token>`; set, it allows a listen host that is not loopback. */
  token: string | undefined;
}

/** Resolved config: defaults applied, durations in milliseconds, shorthands expanded. */
export interface ForwardConfig {
  id: string;
  host: string;
  port: number;
  target: TargetConfig;
  /** How an https url target is dialled, its files read; undefined: node's defaults (the system roots). */
  tls: UpstreamTls | undefined;
  /**
   * What the listener serves TLS with, its files read; undefined: cleartext HTTP. "internal" until the config is
   * chosen (chooseConfig issues the certificate; Kflog.start does for a config parsed without it).
   */
  listenTls: ParsedListenTls | undefined;
  capture: { requestBody: boolean; responseBody: boolean; maxBodyBytes: number };
  timeouts: { connectMs: number; headersMs: number; bodyMs: number; idleMs: number };
  /** Further connection attempts after a failed connect (nothing was sent yet, so any method may retry). */
  retries: number;
  /** A client's FIN (half-close) aborts its exchange, as HAProxy's `option abortonclose` (default false). */
  abortOnClose: boolean;
  /** A TLS listener offers HTTP/2 by ALPN (`protocols` has "h2"; default true). */
  listenH2: boolean;
  /** The listener also serves HTTP/2 in cleartext by prior knowledge (`protocols` has "h2c"; default false). */
  listenH2c: boolean;
  /** The HTTP version spoken upstream (`versions`, default "1.1"). */
  upstreamVersion: UpstreamVersion;
  skip: SkipRule[];
  /** false: `"log": false`, no http.log entry of this forward is emitted. */
  logEnabled: boolean;
}

export interface LogConfig {
  name: string;
  writer: WriterOptions;
  encoder: EncoderOptions;
  level: Level;
  include: string[];
  exclude: string[];
  sampling?: { intervalMs: number; first: number; thereafter: number };
  logCredentials: boolean;
  queueBytes: number;
  /** How long opening, writing a batch to, or closing this log's output may take (`logging.output_deadline`). */
  outputDeadlineMs: number;
}

export interface Config {
  forwards: ForwardConfig[];
  logs: LogConfig[];
  shutdownTimeoutMs: number;
  /** `logging.output_deadline`: bounds every open, write and close of an output, so none can hang kflog. */
  outputDeadlineMs: number;
  traceId: 'v7' | 'v4';
  /** Encode and write on the log thread (true) or on the proxy's own thread. */
  logThread: boolean;
  /** Processes serving the listeners; above 1 the first (primary) process writes the logs for all. */
  listenerProcesses: number;
  /** The admin listener, undefined when `"admin": false`. */
  admin: AdminConfig | undefined;
  /** Where the config came from, for messages: a path or "embedded default". */
  source: string;
}
