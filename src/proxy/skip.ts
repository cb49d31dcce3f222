import type { SkipRule } from '../config/types.js';

interface CompiledRule {
  pathPrefix: string | undefined;
  /** Upper-case. */
  method: string | undefined;
  /** Exact status, or a class as its hundreds digit (2 for "2xx"). */
  status: number | undefined;
  statusClass: number | undefined;
}

/**
 * A forward's `skip` rules: exchanges matching any rule are proxied but not logged. Within one rule every given
 * field must match. A rule without `status` is decided when the request head arrives, so neither entry is built;
 * a rule with `status` can only be decided at the end, so the request entry is still written then.
 */
export class SkipRules {
  /** True when there is any rule at all (the hot path checks this first). */
  readonly any: boolean;
  /** True when some rule needs the status, so access entries must be checked again at the end. */
  readonly byStatus: boolean;
  private readonly early: CompiledRule[];
  private readonly late: CompiledRule[];

  constructor(rules: readonly SkipRule[]) {
    const compiled = rules.map(compile);
    this.early = compiled.filter((r) => r.status === undefined && r.statusClass === undefined);
    this.late = compiled.filter((r) => r.status !== undefined || r.statusClass !== undefined);
    this.any = compiled.length > 0;
    this.byStatus = this.late.length > 0;
  }

  /** Whether the whole exchange is skipped from its request head alone. `uri` may carry a query. */
  skipsRequest(method: string, uri: string): boolean {
    for (let i = 0; i < this.early.length; i++) if (headMatches(this.early[i]!, method, uri)) return true;
    return false;
  }

  /** Whether the access entry is skipped by a rule that names a status. */
  skipsResponse(method: string, uri: string, status: number): boolean {
    for (let i = 0; i < this.late.length; i++) {
      const r = this.late[i]!;
      if (!headMatches(r, method, uri)) continue;
      if (r.status !== undefined ? r.status === status : Math.floor(status / 100) === r.statusClass) return true;
    }
    return false;
  }
}

function compile(rule: SkipRule): CompiledRule {
  let status: number | undefined;
  let statusClass: number | undefined;
  if (typeof rule.status === 'number') status = rule.status;
  else if (typeof rule.status === 'string') {
    if (/^\d{3}$/.test(rule.status)) status = Number(rule.status);
    else statusClass = Number(rule.status[0]);
  }
  return { pathPrefix: rule.path_prefix, method: rule.method?.toUpperCase(), status, statusClass };
}

function headMatches(r: CompiledRule, method: string, uri: string): boolean {
  if (r.method !== undefined && r.method !== method) return false;
  // The prefix is matched against the path only: "/healthz" must not stop matching because of "?probe=1".
  if (r.pathPrefix !== undefined) {
    if (!uri.startsWith(r.pathPrefix)) return false;
    const q = uri.indexOf('?');
    if (q !== -1 && q < r.pathPrefix.length) return false;
  }
  return true;
}
