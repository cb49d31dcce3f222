import type { Entry } from '../emit/entry.js';
import type { Encoder, EncoderContext, EncoderOptions } from './encoder.js';
import { registerEncoder } from './registry.js';

/** Control bytes would let a client forge a terminal line; JSON string escaping neutralises them. */
function safe(s: string): string {
  // eslint-disable-next-line no-control-regex
  return /[\x00-\x1f\x7f"\\ ]/.test(s) ? JSON.stringify(s) : s;
}

/** One human line per exchange (and per kflog message) for a terminal. */
export class ConsoleEncoder implements Encoder {
  private readonly color: boolean;
  constructor(options: EncoderOptions, ctx: EncoderContext) {
    const c = options.color ?? 'auto';
    this.color = c === 'always' || (c === 'auto' && ctx.isTTY);
  }

  encode(entry: Entry): string | null {
    if (entry.kind === 'request') return null;
    const time = new Date(entry.ts).toISOString();
    const level = this.paint(entry.level.toUpperCase().padEnd(5), entry.level);
    if (entry.kind === 'process') {
      let line = time + ' ' + level + ' ' + entry.logger + ' ' + entry.msg;
      for (const k in entry.fields) {
        const v = entry.fields[k];
        line += ' ' + k + '=' + (typeof v === 'string' ? safe(v) : JSON.stringify(v));
      }
      return line + '\n';
    }
    const r = entry.request;
    const status = entry.status === 0 ? '---' : String(entry.status);
    let line = time + ' ' + level + ' ' + entry.forward.id + ' ' + safe(r.method) + ' ' + safe(r.uri) + ' → ' + status +
      ' ' + entry.size + 'B ' + (entry.duration * 1000).toFixed(1) + 'ms trace=' + entry.trace_id;
    if (entry.termination_state !== '----') line += ' term=' + entry.termination_state;
    if (entry.error !== undefined) line += ' error=' + safe(entry.error);
    return line + '\n';
  }

  private paint(text: string, level: string): string {
    if (!this.color) return text;
    const code = level === 'error' ? 31 : level === 'warn' ? 33 : level === 'debug' ? 35 : 34;
    return '\x1b[' + code + 'm' + text + '\x1b[0m';
  }
}

registerEncoder('console', (options, ctx) => new ConsoleEncoder(options, ctx));
