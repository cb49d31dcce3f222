import type { AccessEntry, CapturedBody, Entry, HeaderMap, ProcessEntry, RequestInfo, TlsInfo } from '../core/entry.js';
import type { Encoder, EncoderContext, EncoderModule } from './encoder.js';
import { logfmtKey, logfmtText, logfmtWire } from './escape.js';
import { Pieces, type LineParts } from './pieces.js';
import { asList } from './headers.js';
import { jsonValue } from './json.js';
import { isCredentialHeader, REDACTED } from './redact.js';
import { registerEncoder } from './registry.js';
import { Rfc3339Micro } from './time.js';

/**
 * logfmt (key=value pairs, go-logfmt quoting): the JSON object flattened, keys as JSON paths joined by dots
 * (`request.headers.User-Agent`), repeated header values joined by ", ". One line per entry.
 */
export class LogfmtEncoder implements Encoder {
  private readonly time = new Rfc3339Micro(true);

  constructor(private readonly ctx: EncoderContext) {}

  private readonly pieces = new Pieces();

  encode(entry: Entry): string {
    return this.pieces.joined(this.line(entry));
  }

  encodeParts(entry: Entry): string | LineParts {
    return this.pieces.take(this.line(entry));
  }

  /** The line, its bodies as pieces (pieces.ts). */
  private line(entry: Entry): string {
    let s = 'ts=' + this.time.format(entry.ts) + ' level=' + logfmtText(entry.level ?? '') + ' logger=' + logfmtText(entry.logger ?? '') +
      ' msg=' + logfmtText(entry.msg ?? '');
    if (entry.kind === 'process') return s + processFields(entry) + '\n';
    if (entry.trace_id !== undefined) s += ' trace_id=' + logfmtText(entry.trace_id);
    const f = entry.forward;
    if (f !== undefined) s += ' forward.id=' + logfmtText(f.id ?? '') + ' forward.listen_port=' + f.listen_port + ' forward.backend=' + logfmtText(f.backend ?? '');
    if (entry.request !== undefined) s += this.request(entry.request);
    if (entry.kind === 'access') s += this.access(entry);
    return s + '\n';
  }

  private request(r: RequestInfo): string {
    let s = '';
    if (r.remote_ip !== undefined) s += ' request.remote_ip=' + logfmtText(r.remote_ip);
    if (r.remote_port !== undefined) s += ' request.remote_port=' + logfmtText(r.remote_port);
    if (r.proto !== undefined) s += ' request.proto=' + logfmtWire(r.proto);
    if (r.method !== undefined) s += ' request.method=' + logfmtWire(r.method);
    if (r.host !== undefined) s += ' request.host=' + logfmtWire(r.host);
    if (r.uri !== undefined) s += ' request.uri=' + logfmtWire(r.uri);
    if (r.raw_line !== undefined) s += ' request.raw_line=' + logfmtWire(r.raw_line);
    if (r.replay_of !== undefined) s += ' request.replay_of=' + logfmtText(r.replay_of);
    if (r.tls !== undefined) s += tls(r.tls);
    if (r.headers !== undefined) s += this.headers('request.headers.', r.headers);
    if (r.body !== undefined) s += body('request.body.', r.body, this.pieces);
    return s;
  }

  private access(e: AccessEntry): string {
    let s = '';
    if (e.bytes_read !== undefined) s += ' bytes_read=' + e.bytes_read;
    if (e.user_id !== undefined) s += ' user_id=' + logfmtWire(e.user_id);
    if (e.duration !== undefined) s += ' duration=' + e.duration;
    if (e.size !== undefined) s += ' size=' + e.size;
    if (e.status !== undefined) s += ' status=' + e.status;
    if (e.resp_headers !== undefined) s += this.headers('resp_headers.', e.resp_headers);
    if (e.resp_body !== undefined) s += body('resp_body.', e.resp_body, this.pieces);
    const up = e.upstream;
    if (up !== undefined) {
      s += ' upstream.address=' + logfmtText(up.address ?? '');
      if (up.pod !== undefined) s += ' upstream.pod=' + logfmtText(up.pod);
      if (up.tls_insecure === true) s += ' upstream.tls_insecure=true';
      if (up.proto !== undefined) s += ' upstream.proto=' + logfmtText(up.proto);
    }
    const t = e.timings;
    if (t !== undefined) s += ' timings.tq=' + t.tq + ' timings.tw=' + t.tw + ' timings.tc=' + t.tc + ' timings.tr=' + t.tr + ' timings.tt=' + t.tt;
    if (e.termination_state !== undefined) s += ' termination_state=' + logfmtText(e.termination_state);
    const c = e.conn;
    if (c !== undefined) {
      s += ' conn.actconn=' + c.actconn + ' conn.feconn=' + c.feconn + ' conn.beconn=' + c.beconn + ' conn.srv_conn=' + c.srv_conn + ' conn.retries=' + c.retries;
    }
    if (e.bytes_sent !== undefined) s += ' bytes_sent=' + e.bytes_sent;
    if (e.error !== undefined) s += ' error=' + logfmtText(e.error);
    if (e.tunnel !== undefined) s += ' tunnel.bytes_in=' + e.tunnel.bytes_in + ' tunnel.bytes_out=' + e.tunnel.bytes_out;
    return s;
  }

  private headers(prefix: string, h: HeaderMap): string {
    let s = '';
    for (const name in h) {
      const value = !this.ctx.logCredentials && isCredentialHeader(name) ? REDACTED : asList(h[name]).join(', ');
      s += ' ' + prefix + logfmtKey(name) + '=' + logfmtWire(value);
    }
    return s;
  }
}

function body(prefix: string, b: CapturedBody, pieces: Pieces): string {
  let s = ' ' + prefix + 'bytes=' + b.bytes;
  if (b.text !== undefined) s += ' ' + prefix + 'text=' + pieces.keep(logfmtText(b.text));
  else if (b.base64 !== undefined) s += ' ' + prefix + 'base64=' + pieces.keep(logfmtText(b.base64));
  s += ' ' + prefix + 'truncated=' + (b.truncated === true);
  if (b.content_type !== undefined) s += ' ' + prefix + 'content_type=' + logfmtWire(b.content_type);
  if (b.decoded_from !== undefined) s += ' ' + prefix + 'decoded_from=' + logfmtText(b.decoded_from);
  return s;
}

function processFields(e: ProcessEntry): string {
  let s = '';
  const fields = e.fields;
  if (fields === undefined || fields === null) return s;
  for (const k in fields) {
    const v = fields[k];
    if (v === undefined) continue;
    const text = typeof v === 'string' ? v : (jsonValue(v, 0, undefined) ?? '');
    s += ' ' + logfmtKey(k) + '=' + logfmtText(text);
  }
  return s;
}

/** logfmt takes no options of its own. */
export const logfmtEncoder: EncoderModule<null> = {
  name: 'logfmt',
  schema: { options: { properties: {} } },
  defaults: {},
  settings: () => null,
  create: (_settings, ctx) => new LogfmtEncoder(ctx),
};

registerEncoder(logfmtEncoder);

/** request.tls flattened as the JSON line has it, Caddy's keys (a filter may have deleted any of them). */
function tls(t: Partial<TlsInfo>): string {
  let s = '';
  if (t.resumed !== undefined) s += ' request.tls.resumed=' + t.resumed;
  if (t.version !== undefined) s += ' request.tls.version=' + t.version;
  if (t.cipher_suite !== undefined) s += ' request.tls.cipher_suite=' + t.cipher_suite;
  if (t.proto !== undefined) s += ' request.tls.proto=' + logfmtText(t.proto);
  if (t.server_name !== undefined) s += ' request.tls.server_name=' + logfmtText(t.server_name);
  if (t.client_common_name !== undefined) s += ' request.tls.client_common_name=' + logfmtText(t.client_common_name);
  if (t.client_serial !== undefined) s += ' request.tls.client_serial=' + logfmtText(t.client_serial);
  return s;
}
