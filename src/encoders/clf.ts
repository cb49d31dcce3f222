import type { AccessEntry, Entry, RequestInfo } from '../core/entry.js';
import { optionOr } from '../core/module-options.js';
import type { Encoder, EncoderModule } from './encoder.js';
import { nginxEscape } from './escape.js';
import { firstHeader } from './headers.js';
import { registerEncoder } from './registry.js';
import { ClfTime } from './time.js';

/**
 * nginx's `common` and `combined` log formats, byte for byte:
 *   $remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent"
 * Every variable is escaped as nginx does (\xHH for `"`, `\`, control bytes and bytes from 0x7f), so a request can
 * never add a line, a field or a quote. One line per exchange, from the access entry; nothing for other entries.
 */
export class ClfEncoder implements Encoder {
  private readonly combined: boolean;
  private readonly time: ClfTime;

  constructor(settings: ClfSettings) {
    this.combined = settings.variant === 'combined';
    this.time = new ClfTime(settings.time_local);
  }

  encode(entry: Entry): string | null {
    if (entry.kind !== 'access') return null;
    return this.line(entry);
  }

  private line(e: AccessEntry): string {
    const r = e.request ?? EMPTY_REQUEST;
    let s = dash(r.remote_ip) + ' - ' + dash(e.user_id) + ' [' + this.time.format(e.ts) + '] "' + nginxEscape(requestLine(r)) +
      '" ' + clfStatus(e.status) + ' ' + (e.size ?? 0);
    if (this.combined) s += ' "' + header(firstHeader(r.headers, 'Referer')) + '" "' + header(firstHeader(r.headers, 'User-Agent')) + '"';
    return s + '\n';
  }
}

const EMPTY_REQUEST: RequestInfo = { remote_ip: '', remote_port: '', proto: '', method: '', host: '', uri: '', headers: {} };

/**
 * nginx writes `-` for a variable that is not set (no remote user, no address). These fields are not quoted, so a
 * space (which nginx would leave) is escaped too: a field count that readers rely on never shifts.
 */
function dash(v: string | undefined): string {
  return v === undefined || v === '' ? '-' : nginxEscape(v).replace(SPACES, '\\x20');
}

const SPACES = / /g;

/** An absent header is `-`; a header sent empty is `""`, as nginx writes it. */
function header(v: string | undefined): string {
  return v === undefined ? '-' : nginxEscape(v);
}

/** $request: the request line as received; for one nginx could not parse, the raw line. */
function requestLine(r: RequestInfo): string {
  if (r.raw_line !== undefined) return r.raw_line;
  const method = r.method ?? '';
  if (method === '') return '';
  return r.proto ? method + ' ' + (r.uri ?? '') + ' ' + r.proto : method + ' ' + (r.uri ?? '');
}

/** No response sent means the client went away first: nginx's 499. */
function clfStatus(status: number | undefined): number {
  return status === undefined || status === 0 ? 499 : status;
}

const VARIANTS = ['common', 'combined'] as const;

export interface ClfSettings {
  variant: (typeof VARIANTS)[number];
  time_local: boolean;
}

const CLF_DEFAULTS: Readonly<ClfSettings> = {
  // nginx's own default log format, and what GoAccess's COMBINED and most CLF readers expect.
  variant: 'combined',
  // nginx's $time_local: local time with its offset.
  time_local: true,
};

export const clfEncoder: EncoderModule<ClfSettings> = {
  name: 'clf',
  schema: {
    options: {
      properties: {
        variant: {
          enum: ['common', 'combined'],
          description: 'nginx\'s common or combined format. Default "combined".',
        },
        time_local: {
          type: 'boolean',
          description: 'Times in local time with its offset, as nginx writes them; false: UTC (+0000). Default true.',
        },
      },
    },
  },
  defaults: CLF_DEFAULTS,
  settings: (options) => ({
    variant: optionOr(options, 'variant', CLF_DEFAULTS.variant, VARIANTS),
    time_local: optionOr(options, 'time_local', CLF_DEFAULTS.time_local),
  }),
  create: (settings) => new ClfEncoder(settings),
};

registerEncoder(clfEncoder);
