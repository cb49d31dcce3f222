import type { KubeTargetConfig, RawConfig, RawForward } from '../config/types.js';

/**
 * kftray's exported configuration entry (kftray-commons Config, as `kftray` / `kftui` export it). Every field is
 * optional on the wire; booleans may be written as "true"/"false" strings.
 */
export interface KftrayEntry {
  id?: number;
  alias?: string;
  context?: string;
  kubeconfig?: string;
  namespace?: string;
  service?: string;
  workload_type?: string;
  target?: string;
  protocol?: string;
  local_port?: number;
  remote_port?: number;
  local_address?: string;
  remote_address?: string;
  auto_loopback_address?: boolean;
  domain_enabled?: boolean | string;
  http_logs_enabled?: boolean | string;
  http_logs_max_file_size?: number;
  http_logs_retention_days?: number;
  http_logs_auto_cleanup?: boolean | string;
}

export interface ImportResult {
  config: RawConfig;
  /** Entries kflog cannot serve, with the reason: never dropped silently. */
  skipped: Array<{ alias: string; reason: string }>;
  /** Entries imported with an adaptation the user should know about. */
  notes: Array<{ alias: string; note: string }>;
}

/** kftray's per-configuration HTTP log, as kflog writes it (DESIGN §2: the forward `log` shorthand). */
export const KFTRAY_LOG_FILENAME = '~/.kflog/http_logs/{forward.id}_{listen.port}.log';
/** kftray's defaults when an export leaves the http_logs_* settings out (kftray-commons Config::default). */
const KFTRAY_DEFAULT_MAX_FILE_SIZE = 10 * 1024 * 1024;
const KFTRAY_DEFAULT_RETENTION_DAYS = 7;
const ID_MAX = 63;

function flag(v: unknown): boolean | undefined {
  if (v === true || v === 'true') return true;
  if (v === false || v === 'false') return false;
  return undefined;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined;
}

function port(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 65535 ? v : undefined;
}

/** An alias as a forward id: lower case, [a-z0-9_-], starting with a letter or digit, at most 63 characters. */
export function sanitizeId(alias: string): string {
  return alias
    .toLowerCase()
    .replace(/[^a-z0-9_-]+/g, '-')
    .replace(/-{2,}/g, '-')
    .replace(/^[^a-z0-9]+/, '')
    .slice(0, ID_MAX)
    .replace(/[-_]+$/, '');
}

function uniqueId(base: string, used: Set<string>): string {
  let id = base;
  for (let n = 2; used.has(id); n++) {
    const suffix = `-${n}`;
    id = base.slice(0, ID_MAX - suffix.length) + suffix;
  }
  used.add(id);
  return id;
}

function listenAddress(address: string | undefined, localPort: number): string {
  let host = address ?? '127.0.0.1';
  if (host === 'localhost') host = '127.0.0.1';
  if (host.includes(':') && !host.startsWith('[')) host = `[${host}]`;
  return `${host}:${localPort}`;
}

/** Why kftray's entry cannot be a kflog forward, or undefined when it can. */
function unsupported(e: KftrayEntry): string | undefined {
  const reasons: string[] = [];
  const workload = str(e.workload_type)?.toLowerCase() ?? 'service';
  const protocol = str(e.protocol)?.toLowerCase() ?? 'tcp';
  if (workload === 'proxy') {
    const to = str(e.remote_address);
    reasons.push(
      `workload_type "proxy" relays to ${to ?? 'a remote address'} through a kftray-server pod, which kflog does not deploy`,
    );
  } else if (workload === 'expose') {
    reasons.push('workload_type "expose" publishes a local port inside the cluster; kflog forwards local → cluster only');
  } else if (workload !== 'service' && workload !== 'pod') {
    reasons.push(`workload_type "${e.workload_type}" is unknown (kflog imports service and pod)`);
  }
  if (protocol !== 'tcp') reasons.push(`protocol "${e.protocol}" is not HTTP: kflog proxies HTTP over TCP only`);
  if (reasons.length > 0) return reasons.join('; ');
  if (workload === 'service' && str(e.service) === undefined) return 'workload_type "service" without a service name';
  if (workload === 'pod' && str(e.target) === undefined) return 'workload_type "pod" without a target label selector';
  if (port(e.remote_port) === undefined || e.remote_port === 0) return 'no remote_port';
  return undefined;
}

function kubeTarget(e: KftrayEntry): KubeTargetConfig {
  // Keys in the order a person writes them: where the cluster is, then what to reach.
  const t: Partial<KubeTargetConfig> = {};
  const kubeconfig = str(e.kubeconfig);
  if (kubeconfig !== undefined && kubeconfig !== 'default') t.kubeconfig = kubeconfig; // "default": kftray's default paths
  const context = str(e.context);
  if (context !== undefined) t.context = context;
  const namespace = str(e.namespace);
  if (namespace !== undefined) t.namespace = namespace;
  // kftray's "pod" workload selects pods by the label selector in `target`.
  if ((str(e.workload_type)?.toLowerCase() ?? 'service') === 'pod') t.selector = str(e.target) as string;
  else t.service = str(e.service) as string;
  return { ...t, port: e.remote_port as number };
}

/** kftray's http_logs_* settings → the forward's `log`: a kftray-format file, rotated and kept as kftray does. */
function httpLog(e: KftrayEntry): NonNullable<RawForward['log']> {
  const maxBytes = typeof e.http_logs_max_file_size === 'number' && e.http_logs_max_file_size > 0
    ? e.http_logs_max_file_size
    : KFTRAY_DEFAULT_MAX_FILE_SIZE;
  const writer: Record<string, unknown> & { output: string } = {
    output: 'file',
    filename: KFTRAY_LOG_FILENAME,
    roll_size_mb: Math.round((maxBytes / (1024 * 1024)) * 1000) / 1000 || 0.001,
  };
  // Retention is kftray's auto-cleanup: with it off, old files stay.
  if (flag(e.http_logs_auto_cleanup) !== false) {
    const days = typeof e.http_logs_retention_days === 'number' && e.http_logs_retention_days >= 1
      ? Math.floor(e.http_logs_retention_days)
      : KFTRAY_DEFAULT_RETENTION_DAYS;
    writer.roll_keep_days = days;
  }
  return { format: 'kftray', writer };
}

/**
 * kftray's exported configs (a JSON array, or one object) → a kflog config: one forward per entry kflog can serve
 * (service and pod workloads over TCP), every other entry listed in `skipped` with the reason.
 */
export function importKftray(input: unknown): ImportResult {
  const entries: unknown[] = Array.isArray(input) ? input : [input];
  const forwards: RawForward[] = [];
  const skipped: ImportResult['skipped'] = [];
  const notes: ImportResult['notes'] = [];
  const used = new Set<string>();

  entries.forEach((raw, i) => {
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
      skipped.push({ alias: `#${i + 1}`, reason: 'not a kftray config object' });
      return;
    }
    const e = raw as KftrayEntry;
    const alias = str(e.alias) ?? str(e.service) ?? str(e.target) ?? `#${i + 1}`;
    const why = unsupported(e);
    if (why !== undefined) {
      skipped.push({ alias, reason: why });
      return;
    }
    const base = sanitizeId(alias) || sanitizeId(str(e.service) ?? str(e.target) ?? '') || 'forward';
    const id = uniqueId(base, used);
    if (id !== alias) notes.push({ alias, note: `forward id "${id}"` });
    const localPort = port(e.local_port) ?? 0;
    if (localPort === 0) notes.push({ alias, note: 'no local_port: listens on a free port (logged at start)' });
    if (flag(e.auto_loopback_address) === true && str(e.local_address) === undefined) {
      notes.push({ alias, note: 'auto_loopback_address is not supported: listens on 127.0.0.1' });
    }
    if (flag(e.domain_enabled) === true) notes.push({ alias, note: 'domain_enabled (hosts file entry) is not supported: ignored' });
    const forward: RawForward = {
      id,
      listen: listenAddress(str(e.local_address), localPort),
      target: { kube: kubeTarget(e) },
    };
    if (flag(e.http_logs_enabled) === true) forward.log = httpLog(e);
    forwards.push(forward);
  });

  return { config: { forwards }, skipped, notes };
}
