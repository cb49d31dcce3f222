import { STATUS_CODES, type IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { RequestInfo } from '../core/entry.js';
import { REPLAY_OF_HEADER, replayOf } from '../core/replay-of.js';
import { connTls } from './conn-state.js';
import { headerMap, stripV4Mapped } from './headers.js';

/** The standard reason phrase node itself uses for `status` (RFC 9110). */
export function reasonPhrase(status: number): string {
  return STATUS_CODES[status] ?? 'Error';
}

/** What a parsed request asked, as the log shows it (the headers as sent, kflog-replay-of included). */
export function requestInfo(req: IncomingMessage): RequestInfo {
  const info: RequestInfo = {
    remote_ip: stripV4Mapped(req.socket.remoteAddress ?? ''),
    remote_port: String(req.socket.remotePort ?? ''),
    proto: 'HTTP/' + req.httpVersion,
    method: req.method ?? '',
    host: req.headers.host ?? '',
    uri: req.url ?? '',
    headers: headerMap(req.rawHeaders),
  };
  const replayed = replayOf(req.headers[REPLAY_OF_HEADER] as string | undefined);
  if (replayed !== undefined) info.replay_of = replayed;
  const tls = connTls(req.socket);
  if (tls !== undefined) info.tls = tls;
  return info;
}

/**
 * A request node's parser refused, as logged: its raw line, and — when that line itself is a well-formed
 * HTTP/1.x request line and the fault was further on — its method, URI and protocol, as nginx's `$request`
 * shows them, so consumers that need a request (GoAccess's CADDY format) count it like any other.
 */
export function unparsedRequest(socket: Socket, rawLine: string): RequestInfo {
  const parts = REQUEST_LINE.exec(rawLine);
  const info: RequestInfo = {
    remote_ip: stripV4Mapped(socket.remoteAddress ?? ''),
    remote_port: String(socket.remotePort ?? ''),
    proto: parts?.[3] ?? '',
    method: parts?.[1] ?? '',
    host: '',
    uri: parts?.[2] ?? '',
    headers: {},
    raw_line: rawLine,
  };
  const tls = connTls(socket);
  if (tls !== undefined) info.tls = tls;
  return info;
}

/** RFC 9112 §3: method (a token), one space, request-target (visible bytes), one space, HTTP/1.0 or HTTP/1.1. */
const REQUEST_LINE = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+) ([\x21-\x7e\x80-\xff]+) (HTTP\/1\.[01])$/;

/** The first line of what the client sent (at most 8 KiB of it), without its line ending: the logged raw line. */
export function firstLine(packet: Buffer): string {
  let end = packet.indexOf(10);
  if (end === -1) end = Math.min(packet.length, 8192);
  let line = packet.subarray(0, Math.min(end, 8192)).toString('latin1');
  if (line.endsWith('\r')) line = line.slice(0, -1);
  return line;
}

/** Whether the request announces a body (a Content-Length other than 0, or any Transfer-Encoding). */
export function hasBody(req: IncomingMessage): boolean {
  const cl = req.headers['content-length'];
  if (cl !== undefined) return cl !== '0';
  return req.headers['transfer-encoding'] !== undefined;
}

/** HEAD, 1xx, 204 and 304 responses have no body whatever their headers say (RFC 9110 §6.4.1). */
export function responseHasBody(method: string | undefined, status: number): boolean {
  return method !== 'HEAD' && status !== 204 && status !== 304 && status >= 200;
}

/** The Transfer-Encoding of a request kflog cannot relay (anything but a lone `chunked`), or undefined. */
export function unforwardableCoding(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  return header.trim().toLowerCase() === 'chunked' ? undefined : header;
}

/** The first value of a logged header, if it has one. */
export function firstValue(values: string[] | undefined): string | undefined {
  return values === undefined ? undefined : values[0];
}
