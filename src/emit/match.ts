/**
 * Caddy's include/exclude rule (modules/logging loggerAllowed): names match by whole dot segments; the longest
 * matching include is compared with the longest matching exclude and the longer wins (a tie rejects); a
 * non-empty include list that matches nothing rejects.
 */
export function loggerAllowed(name: string, include: readonly string[], exclude: readonly string[]): boolean {
  if (include.length === 0 && exclude.length === 0) return true;
  let longestAccept = 0;
  let longestReject = 0;
  for (const ns of include) if (segmentPrefix(ns, name) && ns.length > longestAccept) longestAccept = ns.length;
  if (include.length > 0 && longestAccept === 0) return false;
  for (const ns of exclude) if (segmentPrefix(ns, name) && ns.length > longestReject) longestReject = ns.length;
  if (longestReject === 0) return true;
  return longestAccept > longestReject;
}

/** True when `ns` is `name` or a whole-segment prefix of it: "http.log" ⊂ "http.log.access", not "http.logx". */
export function segmentPrefix(ns: string, name: string): boolean {
  if (ns === '*') return true;
  return name === ns || (name.length > ns.length && name.charCodeAt(ns.length) === 46 /* . */ && name.startsWith(ns));
}

/** What include/exclude a log has, as configured. */
export interface LoggerFilter {
  include: readonly string[];
  exclude: readonly string[];
}

/**
 * Which of a fixed set of logs admit a logger name (include/exclude only), worked out once per name: logger names
 * are few (one per forward and kind) and every entry asks, so the answer is kept. One per pipeline, on either side
 * of the hand-over.
 */
export class Admission<T> {
  private readonly byLogger = new Map<string, T[]>();

  constructor(
    private readonly logs: readonly T[],
    private readonly filterOf: (log: T) => LoggerFilter,
  ) {}

  /** The logs that admit entries of this logger name (empty: no log would take them). */
  of(logger: string): T[] {
    let admitted = this.byLogger.get(logger);
    if (admitted === undefined) {
      admitted = this.logs.filter((l) => {
        const f = this.filterOf(l);
        return loggerAllowed(logger, f.include, f.exclude);
      });
      this.byLogger.set(logger, admitted);
    }
    return admitted;
  }
}
