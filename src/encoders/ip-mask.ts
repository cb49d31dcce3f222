import { isIP } from 'node:net';

/**
 * Caddy's ip_mask filter: every comma-separated address (optionally host:port) masked to a CIDR prefix, printed as
 * Go prints addresses (IPv4 dotted, IPv6 RFC 5952; an IPv4-mapped IPv6 address counts as IPv4). Anything that is
 * not an address is kept as is.
 */
export function maskAddresses(value: string, v4Bits: number, v6Bits: number): string {
  const parts = value.split(',');
  for (let i = 0; i < parts.length; i++) parts[i] = maskOne(parts[i]!.trim(), v4Bits, v6Bits);
  return parts.join(', ');
}

function maskOne(value: string, v4Bits: number, v6Bits: number): string {
  let host = value;
  let port = '';
  const bracketed = /^\[([^\]]+)\]:(\d*)$/.exec(value);
  const hostPort = bracketed ?? /^([^:]+):(\d*)$/.exec(value);
  if (hostPort) {
    host = hostPort[1]!;
    port = hostPort[2]!;
  }
  const bytes = parseIp(host);
  if (bytes === undefined) return value;
  const v4 = bytes.length === 4;
  const masked = formatIp(maskBytes(bytes, v4 ? v4Bits : v6Bits));
  if (port === '') return masked;
  return masked.includes(':') ? '[' + masked + ']:' + port : masked + ':' + port;
}

function maskBytes(bytes: number[], bits: number): number[] {
  const out = bytes.slice();
  for (let i = 0; i < out.length; i++) {
    const keep = Math.max(0, Math.min(8, bits - i * 8));
    out[i] = out[i]! & ((0xff << (8 - keep)) & 0xff);
  }
  return out;
}

/** 4 bytes for IPv4 (and IPv4-mapped IPv6), 16 for IPv6; undefined for anything else (zones included, as Go). */
function parseIp(s: string): number[] | undefined {
  const kind = isIP(s);
  if (kind === 4) return s.split('.').map(Number);
  if (kind !== 6 || s.includes('%')) return undefined;
  let head = s;
  let tailV4: number[] = [];
  const lastColon = s.lastIndexOf(':');
  if (s.indexOf('.', lastColon) !== -1) {
    tailV4 = s.slice(lastColon + 1).split('.').map(Number);
    head = s.slice(0, lastColon + 1) + '0:0';
  }
  const [left, right] = head.includes('::') ? head.split('::') : [head, undefined];
  const l = left ? left.split(':') : [];
  const r = right === undefined ? [] : right ? right.split(':') : [];
  const groups = right === undefined ? l : [...l, ...new Array<string>(8 - l.length - r.length).fill('0'), ...r];
  const bytes: number[] = [];
  for (const g of groups) {
    const v = parseInt(g || '0', 16);
    bytes.push(v >> 8, v & 0xff);
  }
  if (tailV4.length === 4) bytes.splice(12, 4, ...tailV4);
  const mapped = bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff;
  return mapped ? bytes.slice(12) : bytes;
}

function formatIp(bytes: number[]): string {
  if (bytes.length === 4) return bytes.join('.');
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((bytes[i]! << 8) | bytes[i + 1]!);
  // RFC 5952: the longest run (≥ 2) of zero groups becomes "::", the first one on a tie.
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart === -1) return hex.join(':');
  return hex.slice(0, bestStart).join(':') + '::' + hex.slice(bestStart + bestLen).join(':');
}
