import type { AccessEntry, Entry, RequestInfo } from '../emit/entry.js';
import type { Encoder, EncoderContext } from './encoder.js';
import { registerEncoder } from './registry.js';
import { visibleHeaders } from './redact.js';

/** Caddy's access-log JSON, keys in Caddy's order, then kflog's own fields. */
export class JsonEncoder implements Encoder {
  constructor(private readonly ctx: EncoderContext) {}

  encode(entry: Entry): string {
    const head = '{"level":"' + entry.level + '","ts":' + entry.ts / 1000 + ',"logger":' + JSON.stringify(entry.logger) + ',"msg":' + JSON.stringify(entry.msg);
    if (entry.kind === 'process') {
      const rest = JSON.stringify(entry.fields);
      return head + (rest.length > 2 ? ',' + rest.slice(1) : '}') + '\n';
    }
    const req = this.request(entry.request);
    if (entry.kind === 'request') {
      return head + ',"request":' + req + ',"trace_id":"' + entry.trace_id + '","forward":' + JSON.stringify(entry.forward.id) + '}\n';
    }
    return head + ',"request":' + req + this.access(entry) + '}\n';
  }

  private request(r: RequestInfo): string {
    return JSON.stringify({
      remote_ip: r.remote_ip,
      remote_port: r.remote_port,
      proto: r.proto,
      method: r.method,
      host: r.host,
      uri: r.uri,
      headers: visibleHeaders(r.headers, this.ctx.logCredentials),
      body: r.body,
    });
  }

  private access(e: AccessEntry): string {
    return (
      ',"bytes_read":' + e.bytes_read +
      ',"user_id":' + JSON.stringify(e.user_id) +
      ',"duration":' + e.duration +
      ',"size":' + e.size +
      ',"status":' + e.status +
      ',"resp_headers":' + JSON.stringify(visibleHeaders(e.resp_headers, this.ctx.logCredentials)) +
      ',"trace_id":"' + e.trace_id + '"' +
      ',"forward":' + JSON.stringify(e.forward.id) +
      ',"upstream":' + JSON.stringify(e.upstream) +
      ',"timings":' + JSON.stringify(e.timings) +
      ',"termination_state":"' + e.termination_state + '"' +
      ',"conn":' + JSON.stringify(e.conn) +
      (e.resp_body ? ',"resp_body":' + JSON.stringify(e.resp_body) : '') +
      (e.tunnel ? ',"tunnel":' + JSON.stringify(e.tunnel) : '') +
      (e.error !== undefined ? ',"error":' + JSON.stringify(e.error) : '')
    );
  }
}

registerEncoder('json', (_options, ctx) => new JsonEncoder(ctx));
