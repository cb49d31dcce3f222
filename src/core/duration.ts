const UNIT_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const PART = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/y;

/** Parses a Go-style duration ("250ms", "1m30s", "24h") into milliseconds; undefined when it is not one. */
export function parseDuration(text: string): number | undefined {
  if (text.length === 0) return undefined;
  PART.lastIndex = 0;
  let total = 0;
  while (PART.lastIndex < text.length) {
    const start = PART.lastIndex;
    const m = PART.exec(text);
    if (!m || m.index !== start) return undefined;
    total += Number(m[1]) * UNIT_MS[m[2]!]!;
  }
  return total;
}

const DAY_MS = 86_400_000;
const DAYS = /^(\d+(?:\.\d+)?)d(.*)$/;

/**
 * A duration that may start with days ("7d", "1d12h"), else a Go-style one ("10m"), in milliseconds; undefined
 * when it is neither. Retention and `kflog ls --since` speak in days, which Go's durations lack.
 */
export function parseAge(text: string): number | undefined {
  const m = DAYS.exec(text);
  if (!m) return parseDuration(text);
  const rest = m[2] === '' ? 0 : parseDuration(m[2]!);
  return rest === undefined ? undefined : Number(m[1]) * DAY_MS + rest;
}
