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
