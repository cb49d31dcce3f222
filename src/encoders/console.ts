import type { AccessEntry, Entry, Level, ProcessEntry } from '../core/entry.js';
import { optionOr } from '../core/module-options.js';
import type { Encoder, EncoderContext, EncoderModule } from './encoder.js';
import { displayText, jsonText, logfmtKey, logfmtText } from './escape.js';
import { jsonValue } from './json.js';
import { registerEncoder } from './registry.js';
import { NOT_PRINTABLE_ASCII, wireText } from './text.js';
import { ConsoleTime } from './time.js';

const LEVEL_LABEL: Readonly<Record<Level, string>> = { debug: 'DEBUG', info: 'INFO ', warn: 'WARN ', error: 'ERROR' };
const LEVEL_COLOR: Readonly<Record<Level, string>> = { debug: '35', info: '34', warn: '33', error: '31' };

/** A token safe for a terminal line: as is when plain, else JSON-quoted (control bytes, escapes, spaces visible). */
function token(s: string, wire: boolean): string {
  if (s === '') return '""';
  if (!NOT_PRINTABLE_ASCII.test(s) && !s.includes(' ') && !s.includes('"')) return s;
  return jsonText(wire ? wireText(s) : s);
}

function humanBytes(n: number): string {
  if (n < 1024) return n + 'B';
  if (n < 1024 * 1024) return (n / 1024).toFixed(1) + 'KiB';
  if (n < 1024 * 1024 * 1024) return (n / 1024 / 1024).toFixed(1) + 'MiB';
  return (n / 1024 / 1024 / 1024).toFixed(2) + 'GiB';
}

function humanDuration(seconds: number): string {
  const ms = seconds * 1000;
  if (ms < 10) return ms.toFixed(2) + 'ms';
  if (ms < 1000) return ms.toFixed(1) + 'ms';
  return seconds.toFixed(2) + 's';
}

/**
 * One human line per exchange (from the access entry) and per kflog message, for a terminal:
 *   2026-11-21 08:46:39.123 INFO  users GET /api/users → 200 34B 1.41ms trace=0193…
 * Colours (level, status class) only when the writer is a terminal or `color: "always"`.
 */
export class ConsoleEncoder implements Encoder {
  private readonly color: boolean;
  private readonly time = new ConsoleTime(true);

  constructor(settings: ConsoleSettings, ctx: EncoderContext) {
    this.color = settings.color === 'always' || (settings.color === 'auto' && ctx.isTTY);
  }

  encode(entry: Entry): string | null {
    if (entry.kind === 'request') return null;
    const head = this.time.format(entry.ts) + ' ' + this.level(entry.level) + ' ';
    if (entry.kind === 'process') return head + this.process(entry) + '\n';
    return head + this.access(entry) + '\n';
  }

  private level(level: Level): string {
    const label = LEVEL_LABEL[level] ?? token(String(level), false);
    return this.color ? '\x1b[' + (LEVEL_COLOR[level] ?? '0') + 'm' + label + '\x1b[0m' : label;
  }

  private access(e: AccessEntry): string {
    const r = e.request;
    let s = token(e.forward?.id ?? '-', false) + ' ';
    if (r?.raw_line !== undefined) s += '<BADREQ> ' + token(r.raw_line, true);
    else s += token(r?.method ?? '-', true) + ' ' + token(r?.uri ?? '-', true);
    s += ' → ' + this.status(e.status ?? 0) + ' ' + humanBytes(e.size ?? 0) + ' ' + humanDuration(e.duration ?? 0);
    if (e.trace_id !== undefined) s += ' ' + this.dim('trace=' + token(e.trace_id, false));
    if (e.termination_state !== undefined && e.termination_state !== '----') s += ' term=' + token(e.termination_state, false);
    if (e.error !== undefined) s += ' error=' + token(e.error, false);
    return s;
  }

  private status(status: number): string {
    const text = status === 0 ? '---' : '' + status;
    if (!this.color) return text;
    const code = status >= 500 || status === 0 ? '31' : status >= 400 ? '33' : status >= 300 ? '36' : '32';
    return '\x1b[' + code + 'm' + text + '\x1b[0m';
  }

  private dim(text: string): string {
    return this.color ? '\x1b[2m' + text + '\x1b[0m' : text;
  }

  private process(e: ProcessEntry): string {
    let s = token(e.logger ?? '', false) + ' ' + displayText(e.msg ?? '');
    const fields = e.fields;
    if (fields !== undefined && fields !== null) {
      for (const k in fields) {
        const v = fields[k];
        if (v === undefined) continue;
        s += ' ' + logfmtKey(k) + '=' + logfmtText(typeof v === 'string' ? v : (jsonValue(v, 0, undefined) ?? ''));
      }
    }
    return s;
  }
}

const COLORS = ['auto', 'always', 'never'] as const;

export interface ConsoleSettings {
  color: (typeof COLORS)[number];
}

const CONSOLE_DEFAULTS: Readonly<ConsoleSettings> = {
  // Colours on a terminal, none in a file or pipe, where escape codes would be noise.
  color: 'auto',
};

export const consoleEncoder: EncoderModule<ConsoleSettings> = {
  name: 'console',
  schema: {
    options: {
      properties: {
        color: { enum: ['auto', 'always', 'never'], description: 'Colours: auto = only on a TTY. Default "auto".' },
      },
    },
  },
  defaults: CONSOLE_DEFAULTS,
  settings: (options) => ({ color: optionOr(options, 'color', CONSOLE_DEFAULTS.color, COLORS) }),
  create: (settings, ctx) => new ConsoleEncoder(settings, ctx),
};

registerEncoder(consoleEncoder);
