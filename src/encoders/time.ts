/**
 * Time formatting for the encoders. Entry times are epoch milliseconds with a sub-millisecond fraction. Every
 * formatter caches the part of its output that only changes once a second, so the hot path is a concatenation.
 */

export const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'] as const;
const LONG_MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const LONG_DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

export function pad2(n: number): string {
  return n < 10 ? '0' + n : '' + n;
}

export function pad3(n: number): string {
  return n < 10 ? '00' + n : n < 100 ? '0' + n : '' + n;
}

function pad6(n: number): string {
  const s = '' + n;
  return '000000'.slice(s.length) + s;
}

/** Calendar fields of one second, UTC or local. */
export interface TimeParts {
  year: number;
  /** 0–11 */
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  /** 0 = Sunday */
  weekday: number;
  /** 1–366 */
  yearDay: number;
  /** Minutes east of UTC. */
  offset: number;
  /** The second these parts describe, since the epoch. */
  epoch: number;
}

export function timeParts(epochSecond: number, local: boolean): TimeParts {
  const d = new Date(epochSecond * 1000);
  if (local) {
    const start = new Date(d.getFullYear(), 0, 1);
    return {
      year: d.getFullYear(),
      month: d.getMonth(),
      day: d.getDate(),
      hour: d.getHours(),
      minute: d.getMinutes(),
      second: d.getSeconds(),
      weekday: d.getDay(),
      yearDay: Math.floor((Date.UTC(d.getFullYear(), d.getMonth(), d.getDate()) - Date.UTC(start.getFullYear(), 0, 1)) / 86_400_000) + 1,
      offset: -d.getTimezoneOffset(),
      epoch: epochSecond,
    };
  }
  return {
    year: d.getUTCFullYear(),
    month: d.getUTCMonth(),
    day: d.getUTCDate(),
    hour: d.getUTCHours(),
    minute: d.getUTCMinutes(),
    second: d.getUTCSeconds(),
    weekday: d.getUTCDay(),
    yearDay: Math.floor((Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()) - Date.UTC(d.getUTCFullYear(), 0, 1)) / 86_400_000) + 1,
    offset: 0,
    epoch: epochSecond,
  };
}

/** "+0100", "-0530", "+0000". */
export function offsetHHMM(offset: number): string {
  const sign = offset < 0 ? '-' : '+';
  const a = Math.abs(offset);
  return sign + pad2(Math.floor(a / 60)) + pad2(a % 60);
}

/**
 * Whole microseconds since the epoch, split. Entry times carry a sub-millisecond fraction; rounding (not flooring)
 * keeps 1718292849756.706 at …756706 although the double is a hair below it.
 */
export function splitMicros(ms: number): { second: number; micros: number } {
  const us = Math.round(ms * 1000);
  const second = Math.floor(us / 1e6);
  return { second, micros: us - second * 1e6 };
}

/** A formatter whose text is a per-second prefix plus something finer, cached by second. */
abstract class PerSecond {
  private cachedSecond = NaN;
  private cached = '';
  constructor(protected readonly local: boolean) {}
  protected abstract build(p: TimeParts): string;
  protected prefix(second: number): string {
    if (second !== this.cachedSecond) {
      this.cached = this.build(timeParts(second, this.local));
      this.cachedSecond = second;
    }
    return this.cached;
  }
}

/** nginx's $time_local and Caddy's common_log: `21/Nov/2026:08:46:39 +0000`. */
export class ClfTime extends PerSecond {
  protected build(p: TimeParts): string {
    return pad2(p.day) + '/' + MONTHS[p.month] + '/' + p.year + ':' + pad2(p.hour) + ':' + pad2(p.minute) + ':' + pad2(p.second) + ' ' + offsetHHMM(p.offset);
  }
  format(ms: number): string {
    return this.prefix(Math.floor(ms / 1000));
  }
}

/** HAProxy's accept date: `21/Nov/2026:08:48:19.732`. */
export class HaproxyDate extends PerSecond {
  protected build(p: TimeParts): string {
    return pad2(p.day) + '/' + MONTHS[p.month] + '/' + p.year + ':' + pad2(p.hour) + ':' + pad2(p.minute) + ':' + pad2(p.second) + '.';
  }
  format(ms: number): string {
    const whole = Math.floor(ms);
    const second = Math.floor(whole / 1000);
    return this.prefix(second) + pad3(whole - second * 1000);
  }
}

/** RFC 3164 timestamp as lnav reads it: `Nov 01 08:48:19` (day zero-padded, unlike HAProxy's `Nov  1`). */
export class SyslogTime extends PerSecond {
  protected build(p: TimeParts): string {
    return MONTHS[p.month] + ' ' + pad2(p.day) + ' ' + pad2(p.hour) + ':' + pad2(p.minute) + ':' + pad2(p.second);
  }
  format(ms: number): string {
    return this.prefix(Math.floor(ms / 1000));
  }
}

/** kftray's `Request at:` (chrono's to_rfc3339 in UTC, microseconds): `2024-06-13T15:34:09.756706+00:00`. */
export class Rfc3339Micro extends PerSecond {
  constructor(private readonly zulu = false) {
    super(false);
  }
  protected build(p: TimeParts): string {
    return p.year + '-' + pad2(p.month + 1) + '-' + pad2(p.day) + 'T' + pad2(p.hour) + ':' + pad2(p.minute) + ':' + pad2(p.second) + '.';
  }
  format(ms: number): string {
    const { second, micros } = splitMicros(ms);
    return this.prefix(second) + pad6(micros) + (this.zulu ? 'Z' : '+00:00');
  }
}

/** A terminal's time: local, to the millisecond, `2026-11-21 08:46:39.123`. */
export class ConsoleTime extends PerSecond {
  protected build(p: TimeParts): string {
    return p.year + '-' + pad2(p.month + 1) + '-' + pad2(p.day) + ' ' + pad2(p.hour) + ':' + pad2(p.minute) + ':' + pad2(p.second) + '.';
  }
  format(ms: number): string {
    const whole = Math.floor(ms);
    const second = Math.floor(whole / 1000);
    return this.prefix(second) + pad3(whole - second * 1000);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Go layouts (Caddy's time_format accepts any): the reference time is Mon Jan 2 15:04:05 MST 2006.

type Token =
  | { k: 'lit'; s: string }
  | { k: 'field'; f: (p: TimeParts) => string }
  | { k: 'frac'; digits: number; trim: boolean; sep: string };

/** Go's MST: the zone's abbreviation, or the numeric form Go uses when a zone has none ("+0530"). */
function tzAbbreviation(p: TimeParts, local: boolean): string {
  if (!local) return 'UTC';
  try {
    const name = new Intl.DateTimeFormat('en-US', { timeZoneName: 'short' })
      .formatToParts(new Date(p.epoch * 1000))
      .find((x) => x.type === 'timeZoneName')?.value;
    if (name && /^[A-Z]{3,5}$/.test(name)) return name;
  } catch {
    // no Intl zone data: numeric form below
  }
  const offset = p.offset;
  const a = Math.abs(offset);
  return (offset < 0 ? '-' : '+') + pad2(Math.floor(a / 60)) + (a % 60 ? pad2(a % 60) : '');
}

function numericZone(kind: string): (p: TimeParts) => string {
  const z = kind.startsWith('Z');
  const body = kind.slice(1);
  return (p: TimeParts): string => {
    if (z && p.offset === 0) return 'Z';
    const sign = p.offset < 0 ? '-' : '+';
    const a = Math.abs(p.offset);
    const hh = pad2(Math.floor(a / 60));
    const mm = pad2(a % 60);
    switch (body) {
      case '07':
        return sign + hh;
      case '0700':
        return sign + hh + mm;
      case '07:00':
        return sign + hh + ':' + mm;
      case '070000':
        return sign + hh + mm + '00';
      default: // '07:00:00'
        return sign + hh + ':' + mm + ':00';
    }
  };
}

const isDigit = (s: string, i: number): boolean => i < s.length && s.charCodeAt(i) >= 48 && s.charCodeAt(i) <= 57;

/** Splits a Go layout into tokens, following time.nextStdChunk. */
export function compileGoLayout(layout: string, local: boolean): Token[] {
  const tokens: Token[] = [];
  let lit = '';
  const push = (t: Token): void => {
    if (lit) tokens.push({ k: 'lit', s: lit });
    lit = '';
    tokens.push(t);
  };
  const field = (f: (p: TimeParts) => string): Token => ({ k: 'field', f });
  for (let i = 0; i < layout.length; ) {
    const rest = layout.slice(i);
    const c = layout[i]!;
    let matched: Token | undefined;
    let len = 0;
    const is = (s: string): boolean => rest.startsWith(s);
    switch (c) {
      case 'J':
        if (is('January')) [matched, len] = [field((p) => LONG_MONTHS[p.month]!), 7];
        else if (is('Jan')) [matched, len] = [field((p) => MONTHS[p.month]!), 3];
        break;
      case 'M':
        if (is('Monday')) [matched, len] = [field((p) => LONG_DAYS[p.weekday]!), 6];
        else if (is('Mon')) [matched, len] = [field((p) => DAYS[p.weekday]!), 3];
        else if (is('MST')) [matched, len] = [field((p) => tzAbbreviation(p, local)), 3];
        break;
      case '0':
        if (is('002')) [matched, len] = [field((p) => pad3(p.yearDay)), 3];
        else if (is('01')) [matched, len] = [field((p) => pad2(p.month + 1)), 2];
        else if (is('02')) [matched, len] = [field((p) => pad2(p.day)), 2];
        else if (is('03')) [matched, len] = [field((p) => pad2(p.hour % 12 || 12)), 2];
        else if (is('04')) [matched, len] = [field((p) => pad2(p.minute)), 2];
        else if (is('05')) [matched, len] = [field((p) => pad2(p.second)), 2];
        else if (is('06')) [matched, len] = [field((p) => pad2(p.year % 100)), 2];
        break;
      case '1':
        if (is('15')) [matched, len] = [field((p) => pad2(p.hour)), 2];
        else [matched, len] = [field((p) => '' + (p.month + 1)), 1];
        break;
      case '2':
        if (is('2006')) [matched, len] = [field((p) => '' + p.year), 4];
        else [matched, len] = [field((p) => '' + p.day), 1];
        break;
      case '_':
        if (is('_2006')) {
          lit += '_';
          i += 1;
          continue;
        }
        if (is('__2')) [matched, len] = [field((p) => (p.yearDay < 10 ? '  ' : p.yearDay < 100 ? ' ' : '') + p.yearDay), 3];
        else if (is('_2')) [matched, len] = [field((p) => (p.day < 10 ? ' ' : '') + p.day), 2];
        break;
      case '3':
        [matched, len] = [field((p) => '' + (p.hour % 12 || 12)), 1];
        break;
      case '4':
        [matched, len] = [field((p) => '' + p.minute), 1];
        break;
      case '5':
        [matched, len] = [field((p) => '' + p.second), 1];
        break;
      case 'P':
        if (is('PM')) [matched, len] = [field((p) => (p.hour >= 12 ? 'PM' : 'AM')), 2];
        break;
      case 'p':
        if (is('pm')) [matched, len] = [field((p) => (p.hour >= 12 ? 'pm' : 'am')), 2];
        break;
      case '-':
      case 'Z':
        for (const z of ['070000', '07:00:00', '0700', '07:00', '07']) {
          if (is(c + z)) {
            [matched, len] = [field(numericZone(c + z)), 1 + z.length];
            break;
          }
        }
        break;
      case '.':
      case ',': {
        const d = layout[i + 1];
        if (d === '0' || d === '9') {
          let j = i + 1;
          while (j < layout.length && layout[j] === d) j++;
          if (!isDigit(layout, j)) [matched, len] = [{ k: 'frac', digits: j - i - 1, trim: d === '9', sep: c }, j - i];
        }
        break;
      }
    }
    if (matched) {
      push(matched);
      i += len;
    } else {
      lit += c;
      i += 1;
    }
  }
  if (lit) tokens.push({ k: 'lit', s: lit });
  return tokens;
}

/** A compiled Go layout, cached per second around its fractional-second tokens. */
export class GoLayout {
  private readonly tokens: Token[];
  private cachedSecond = NaN;
  /** Per-second text between fraction tokens: pieces.length === fracs.length + 1. */
  private pieces: string[] = [];
  private readonly fracs: Array<Extract<Token, { k: 'frac' }>>;

  constructor(
    layout: string,
    private readonly local: boolean,
  ) {
    this.tokens = compileGoLayout(layout, local);
    this.fracs = this.tokens.filter((t): t is Extract<Token, { k: 'frac' }> => t.k === 'frac');
  }

  format(ms: number): string {
    const { second, micros } = splitMicros(ms);
    if (second !== this.cachedSecond) {
      const p = timeParts(second, this.local);
      const pieces: string[] = [];
      let cur = '';
      for (const t of this.tokens) {
        if (t.k === 'lit') cur += t.s;
        else if (t.k === 'field') cur += t.f(p);
        else {
          pieces.push(cur);
          cur = '';
        }
      }
      pieces.push(cur);
      this.pieces = pieces;
      this.cachedSecond = second;
    }
    if (this.fracs.length === 0) return this.pieces[0]!;
    let out = this.pieces[0]!;
    const nanos = ('00000000' + micros * 1000).slice(-9);
    for (let i = 0; i < this.fracs.length; i++) {
      const f = this.fracs[i]!;
      let digits = nanos.slice(0, f.digits);
      if (f.trim) digits = digits.replace(/0+$/, '');
      if (digits) out += f.sep + digits;
      out += this.pieces[i + 1]!;
    }
    return out;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Durations

/** Go's time.Duration.String() for a count of nanoseconds: "1.40379ms", "1.002181514s", "1m0.5s", "0s". */
export function goDuration(nanos: number): string {
  const u = Math.round(Math.abs(nanos));
  const neg = nanos < 0 && u !== 0;
  let out: string;
  if (u < 1e9) {
    if (u === 0) return '0s';
    if (u < 1e3) out = u + 'ns';
    else if (u < 1e6) out = fracUnits(u, 3) + 'µs';
    else out = fracUnits(u, 6) + 'ms';
  } else {
    const frac = u % 1e9;
    let secs = (u - frac) / 1e9;
    let s = '' + (secs % 60);
    if (frac) s += ('.' + ('00000000' + frac).slice(-9)).replace(/0+$/, '');
    out = s + 's';
    secs = Math.floor(secs / 60);
    if (secs > 0) {
      out = (secs % 60) + 'm' + out;
      const hours = Math.floor(secs / 60);
      if (hours > 0) out = hours + 'h' + out;
    }
  }
  return neg ? '-' + out : out;
}

function fracUnits(v: number, prec: number): string {
  const scale = 10 ** prec;
  const whole = Math.floor(v / scale);
  const frac = v - whole * scale;
  if (frac === 0) return '' + whole;
  return whole + ('.' + ('' + (scale + frac)).slice(1)).replace(/0+$/, '');
}
