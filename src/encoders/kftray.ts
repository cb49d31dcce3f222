import { STATUS_CODES } from 'node:http';
import type { AccessEntry, Entry, HeaderMap, RequestInfo } from '../core/entry.js';
import { guardBlockText as guard } from './block-guard.js';
import { viewBody, type BodyView } from './body.js';
import { Pieces, type LineParts } from './pieces.js';
import { optionOr } from '../core/module-options.js';
import type { Encoder, EncoderContext, EncoderModule } from './encoder.js';
import { displayBlock, displayText, displayWire } from './escape.js';
import { asList, firstHeader, headerValues } from './headers.js';
import { isCredentialHeader, REDACTED } from './redact.js';
import { registerEncoder } from './registry.js';
import { clientComputed, credentialVariable, headProblem, replayBody, restClientFileHeader } from './rest-client.js';
import { Rfc3339Micro } from './time.js';

const SEPARATOR = '----------------------------------------';
const EMPTY_MARKER = '<empty>';

const STYLES = ['classic', 'rest-client'] as const;
type Style = (typeof STYLES)[number];

export interface KftraySettings {
  style: Style;
}

const KFTRAY_DEFAULTS: Readonly<KftraySettings> = {
  // kftray's own block format, which its users already read; rest-client is the replayable flavour, asked for.
  style: 'classic',
};

/**
 * kftray's HTTP log. A request block is written when the request entry arrives, a response block (with `Took:`)
 * when the access entry arrives. A request whose body is still on its way when its head is logged (or a malformed
 * request, which has no request entry) is written whole with its response, so its body is shown, not `<empty>`.
 */
export class KftrayEncoder implements Encoder {
  private readonly style: Style;
  private readonly time = new Rfc3339Micro();
  private readonly pieces = new Pieces();

  constructor(
    settings: KftraySettings,
    private readonly ctx: EncoderContext,
  ) {
    this.style = settings.style;
  }

  entriesIn(entry: Entry): number {
    if (entry.kind === 'process' || !deferred(entry.request ?? EMPTY_REQUEST)) return 1;
    return entry.kind === 'request' ? 0 : 2;
  }

  encode(entry: Entry): string | null {
    const text = this.blocks(entry);
    return text === null ? null : this.pieces.joined(text);
  }

  encodeParts(entry: Entry): string | LineParts | null {
    const text = this.blocks(entry);
    return text === null ? null : this.pieces.take(text);
  }

  /** The blocks for the entry, classic bodies as pieces (pieces.ts). */
  private blocks(entry: Entry): string | null {
    if (entry.kind === 'process') return null;
    const request = entry.request ?? EMPTY_REQUEST;
    if (entry.kind === 'request') {
      if (deferred(request)) return null;
      return this.requestBlock(entry.trace_id, entry.ts, request, 0);
    }
    const head = deferred(request)
      ? this.requestBlock(entry.trace_id, entry.ts - (entry.duration ?? 0) * 1000, request, entry.bytes_read ?? 0)
      : '';
    return head + this.responseBlock(entry);
  }

  private requestBlock(traceId: string | undefined, ts: number, r: RequestInfo, wireBytes: number): string {
    const id = displayText(traceId ?? '');
    const at = this.time.format(ts);
    const body = viewBody(r.body, r.headers, wireBytes);
    if (this.style === 'rest-client') return this.restClientRequest(id, at, r, body, wireBytes);
    const headers = this.headerLines(r.headers, '');
    let s = SEPARATOR + '\nTrace ID: ' + id + '\nRequest at: ' + at +
      '\nMethod: ' + orDash(displayWire(r.method ?? '')) +
      '\nPath: ' + orDash(displayWire(r.uri ?? '')) +
      '\nVersion: ' + version(r.proto ?? '') + '\n';
    if (r.raw_line !== undefined) s += 'Request line: ' + displayWire(r.raw_line) + '\n';
    if (r.replay_of !== undefined) s += 'Replay of: ' + displayText(r.replay_of) + '\n';
    return s + '\nHeaders:\n' + headers + '\nBody:\n' + this.classicBody(body) + '\n';
  }

  /**
   * A request REST clients send again as captured: the body byte for byte, Content-Length left to the client,
   * redacted credentials as the file's variables ({{authorization}}). A request that cannot be sent as captured
   * is written as comments, with the reason.
   */
  private restClientRequest(id: string, at: string, r: RequestInfo, view: BodyView, wireBytes: number): string {
    let s = '\n# ' + SEPARATOR + '\n# Trace ID: ' + id + '\n# Request at: ' + at + '\n';
    if (r.raw_line !== undefined) {
      // Nothing REST Client could replay: the whole request stays a comment.
      return s + '# Malformed request line: ' + displayWire(r.raw_line) + '\n\n###\n';
    }
    const line = guard(displayWire(r.method ?? '') + ' ' + requestUrl(r) + ' ' + displayWire(r.proto || 'HTTP/1.1'));
    const body = replayBody(r.body, r.headers, wireBytes);
    let why = 'reason' in body ? body.reason : headProblem(r.uri ?? '', r.headers, this.ctx.logCredentials);
    if (why === undefined && 'text' in body && body.text !== undefined && guard(body.text) !== body.text) {
      why = 'its body has lines a reader would take for a block separator (###, a dashed line, Trace ID:)';
    }
    if (why !== undefined || !/^[A-Za-z]+ /.test(line)) {
      s += '# Not replayable: ' + (why ?? 'its request line cannot be written as sent') + '\n';
      s += '# ' + line + '\n' + this.headerLines(r.headers, '# ') + '#\n';
      if (view.text !== undefined) s += commented(guard(displayBlock(view.text)));
      if (view.marker !== undefined && view.marker !== EMPTY_MARKER) s += '# ' + displayWire(view.marker) + '\n';
      return s + '\n###\n';
    }
    // Both clients' cookie jars would parse the Cookie header and add cookies from earlier responses: off, so the
    // request goes out with the headers it was captured with.
    s += '# @no-cookie-jar\n' + line + '\n' + this.replayHeaderLines(r.headers) + '\n';
    if ('text' in body && body.text !== undefined) s += body.text + '\n\n';
    return s + '###\n';
  }

  /** Header lines to send: what the client computes from the body is a comment, redacted credentials variables. */
  private replayHeaderLines(headers: HeaderMap | undefined): string {
    if (headers === undefined) return '';
    let s = '';
    for (const name in headers) {
      const values = asList(headers[name]);
      if (clientComputed(name)) {
        for (const v of values) s += '# ' + name + ': ' + displayWire(v) + ' (the client computes it from the body)\n';
      } else if (!this.ctx.logCredentials && isCredentialHeader(name)) {
        s += name + ': {{' + credentialVariable(name) + '}}\n';
      } else {
        for (const v of values) s += name + ': ' + v + '\n';
      }
    }
    return guard(s);
  }

  private responseBlock(e: AccessEntry): string {
    const id = displayText(e.trace_id ?? '');
    const at = this.time.format(e.ts);
    const took = Math.max(0, Math.floor((e.duration ?? 0) * 1000));
    const status = e.status ?? 0;
    const body = viewBody(e.resp_body, e.resp_headers, e.size ?? 0);
    if (this.style === 'classic') {
      let s = SEPARATOR + '\nTrace ID: ' + id + '\nResponse at: ' + at + '\nTook: ' + took + ' ms\nStatus: ' + status + '\n';
      if (e.error !== undefined) s += 'Error: ' + displayText(e.error) + '\n';
      return s + '\nHeaders:\n' + this.headerLines(e.resp_headers, '') + '\nBody:\n' + this.classicBody(body) + '\n';
    }
    // The response is all comments: the file stays a list of requests REST Client can replay.
    let s = '\n# ' + SEPARATOR + '\n# Trace ID: ' + id + '\n# Response at: ' + at + '\n# Took: ' + took + ' ms\n';
    if (e.error !== undefined) s += '# Error: ' + displayText(e.error) + '\n';
    s += status === 0 ? '# (no response)\n' : '# HTTP/1.1 ' + status + ' ' + (STATUS_CODES[status] ?? 'Unknown Status') + '\n';
    s += this.headerLines(e.resp_headers, '# ') + '#\n';
    if (body.text !== undefined) s += commented(guard(displayBlock(body.text)));
    if (body.marker !== undefined) s += '# ' + displayWire(body.marker) + '\n';
    return s + '\n###\n';
  }

  private classicBody(body: BodyView): string {
    let s = '';
    if (body.text !== undefined) s += this.pieces.keep(guard(displayBlock(body.text))) + '\n';
    // A marker quotes the content type, which the client or upstream chose.
    if (body.marker !== undefined) s += displayWire(body.marker) + '\n';
    return s;
  }

  private headerLines(headers: HeaderMap | undefined, prefix: string): string {
    if (headers === undefined) return '';
    let s = '';
    for (const name in headers) {
      const shownName = displayWire(name);
      if (!this.ctx.logCredentials && isCredentialHeader(name)) {
        s += prefix + shownName + ': ' + REDACTED + '\n';
        continue;
      }
      const values = asList(headers[name]);
      for (let i = 0; i < values.length; i++) s += prefix + shownName + ': ' + displayWire(values[i]!) + '\n';
    }
    return guard(s);
  }
}

const EMPTY_REQUEST: RequestInfo = { remote_ip: '', remote_port: '', proto: '', method: '', host: '', uri: '', headers: {} };

function orDash(s: string): string {
  return s === '' ? '-' : s;
}

/** kftray prints the version's number: 1 for HTTP/1.1, 0 for HTTP/1.0, 2 for HTTP/2. */
function version(proto: string): string {
  if (proto === 'HTTP/1.1') return '1';
  if (proto === 'HTTP/1.0') return '0';
  if (proto === 'HTTP/2.0') return '2';
  return proto === '' ? '-' : displayWire(proto);
}

/** A request whose body may still be arriving when its head is logged, or one that could not be parsed. */
function deferred(r: RequestInfo): boolean {
  // Decided from the head alone, so the request entry and the access entry always agree (the proxy attaches the
  // captured body to the same request object by the time the access entry is emitted).
  if (r.raw_line !== undefined) return true;
  if (headerValues(r.headers, 'Transfer-Encoding') !== undefined) return true;
  const cl = firstHeader(r.headers, 'Content-Length');
  return cl !== undefined && cl.trim() !== '0' && cl.trim() !== '';
}

/** REST Client replays through kflog itself when the URL is the Host the client used. */
function requestUrl(r: RequestInfo): string {
  const uri = displayWire(r.uri ?? '');
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(uri)) return uri.replace(/ /g, '%20');
  const host = displayWire(firstHeader(r.headers, 'Host') ?? r.host ?? '').replace(/ /g, '%20');
  return 'http://' + host + (uri === '*' ? '' : uri);
}

function commented(text: string): string {
  return '# ' + text.replace(/\n/g, '\n# ') + '\n';
}

export const kftrayEncoder: EncoderModule<KftraySettings> = {
  name: 'kftray',
  schema: {
    options: {
      properties: {
        style: {
          enum: ['classic', 'rest-client'],
          description: 'classic: kftray\'s block format; rest-client: kftray ≥ 0.16\'s .http flavour, which VS Code\'s REST Client and httpyac replay as captured (bodies byte for byte, redacted credentials as the file\'s variables, declared once at the top of each file; requests that cannot be sent as captured are comments saying why). Default "classic".',
        },
      },
    },
  },
  defaults: KFTRAY_DEFAULTS,
  settings: (options) => ({ style: optionOr(options, 'style', KFTRAY_DEFAULTS.style, STYLES) }),
  create: (settings, ctx) => new KftrayEncoder(settings, ctx),
  fileHeader: (settings) => (settings.style === 'rest-client' ? restClientFileHeader() : undefined),
};

registerEncoder(kftrayEncoder);
