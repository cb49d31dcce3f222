import { isIP } from 'node:net';
import { schemaProblems, semanticProblems } from '../config/validate.js';
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

/** kftray's per-configuration HTTP log, as kflog writes it (docs/pipeline.md: the forward `log` shorthand). */
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

/** kftray's first address for auto_loopback_address (its fallback allocator walks 127.0.0.2 … 127.0.0.254). */
const AUTO_LOOPBACK_FIRST = 2;
const AUTO_LOOPBACK_LAST = 254;

function listenAddress(host: string, localPort: number): string {
  return `${host.includes(':') ? `[${host}]` : host}:${localPort}`;
}

/**
 * The host kftray binds for an entry, or why it binds none. kftray parses local_address as an IP address
 * (kftray-portforward listener.rs, start_tcp_listener) and uses 127.0.0.1 when it is absent (its export drops
 * 127.0.0.1, the default). With auto_loopback_address it allocates a loopback address at start and saves it as
 * local_address (start.rs, allocate_local_address_for_config): an exported one is where it listened last.
 */
function localHost(e: KftrayEntry): { host: string; note?: string } | { auto: true } | { error: string } {
  const address = str(e.local_address);
  if (address === undefined) return flag(e.auto_loopback_address) === true ? { auto: true } : { host: '127.0.0.1' };
  if (address === 'localhost') return { host: '127.0.0.1', note: 'local_address "localhost": listens on 127.0.0.1' };
  const bare = address.replace(/^\[(.*)\]$/, '$1');
  if (isIP(bare) === 0) {
    return { error: `local_address "${address}" is not an IP address (kftray cannot bind it either)` };
  }
  return { host: bare, note: loopbackAliasNote(bare) };
}

/** 127.0.0.x other than .1 exists on Linux; macOS needs an lo0 alias, which kftray's helper adds and kflog does not. */
function loopbackAliasNote(host: string): string | undefined {
  if (!/^127\./.test(host) || host === '127.0.0.1') return undefined;
  return `listens on ${host}: on macOS that address needs a loopback alias (sudo ifconfig lo0 alias ${host} up), which kftray's helper used to add`;
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
 * The first 127.0.0.x that no entry of the export names and no earlier auto entry took: kftray's fallback
 * allocation, done once here so the imported forwards listen where kftray would put them.
 */
function autoLoopback(taken: Set<string>): string | undefined {
  for (let octet = AUTO_LOOPBACK_FIRST; octet <= AUTO_LOOPBACK_LAST; octet++) {
    const host = `127.0.0.${octet}`;
    if (!taken.has(host)) {
      taken.add(host);
      return host;
    }
  }
  return undefined;
}

/**
 * Why kflog would refuse `candidate` next to the forwards already imported, in kftray's terms, or undefined.
 * kftray lets two configs share a local address and port (it starts only those the user starts, and the second
 * of two running ones fails to bind); kflog runs every forward of its config at once, so it cannot take both.
 */
function refusal(candidate: RawForward, accepted: RawForward[], aliases: string[]): string | undefined {
  const doc = { forwards: [...accepted, candidate] };
  const at = `/forwards/${accepted.length}`;
  const problems = [...schemaProblems(doc), ...semanticProblems(doc)].filter(
    (p) => p.pointer === at || p.pointer.startsWith(at + '/'),
  );
  const first = problems[0];
  if (first === undefined) return undefined;
  const clash = /already used by \/forwards\/(\d+)/.exec(first.reason);
  if (clash) {
    const other = aliases[Number(clash[1])] ?? 'another entry';
    return (
      `listens on ${candidate.listen} like "${other}": kftray starts only one of the two at a time (the second ` +
      'cannot bind), kflog runs every forward at once; give one of them its own local_port or local_address in ' +
      'kftray, or import it on its own'
    );
  }
  return `kflog refuses it: ${first.pointer.slice(at.length) || '/'}: ${first.reason}`;
}

/**
 * kftray's exported configs (a JSON array, or one object) → a kflog config that `kflog validate` accepts: one
 * forward per entry kflog can serve (service and pod workloads over TCP), every other entry in `skipped` with
 * the reason, every adaptation in `notes`.
 */
export function importKftray(input: unknown): ImportResult {
  const entries: unknown[] = Array.isArray(input) ? input : [input];
  const forwards: RawForward[] = [];
  const aliases: string[] = [];
  const skipped: ImportResult['skipped'] = [];
  const notes: ImportResult['notes'] = [];
  const used = new Set<string>();
  // Addresses the export names itself are not free for auto_loopback_address entries.
  const taken = new Set<string>(['127.0.0.1']);
  for (const raw of entries) {
    const address = raw !== null && typeof raw === 'object' ? str((raw as KftrayEntry).local_address) : undefined;
    if (address !== undefined) taken.add(address);
  }

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
    const local = localHost(e);
    if ('error' in local) {
      skipped.push({ alias, reason: local.error });
      return;
    }
    const entryNotes: string[] = [];
    let host: string;
    if ('auto' in local) {
      const allocated = autoLoopback(taken);
      if (allocated === undefined) {
        skipped.push({ alias, reason: 'auto_loopback_address: no 127.0.0.x address is left for it' });
        return;
      }
      host = allocated;
      entryNotes.push(`auto_loopback_address: kftray picks a free 127.0.0.x at start; listens on ${host}`);
      const aliasNote = loopbackAliasNote(host);
      if (aliasNote !== undefined) entryNotes.push(aliasNote);
    } else {
      host = local.host;
      if (local.note !== undefined) entryNotes.push(local.note);
    }
    const localPort = port(e.local_port) ?? 0;
    if (localPort === 0) entryNotes.push('no local_port: listens on a free port (logged at start)');
    if (flag(e.domain_enabled) === true) entryNotes.push('domain_enabled (hosts file entry) is not supported: ignored');
    const base = sanitizeId(alias) || sanitizeId(str(e.service) ?? str(e.target) ?? '') || 'forward';
    const id = uniqueId(base, new Set(used));
    const forward: RawForward = {
      id,
      listen: listenAddress(host, localPort),
      target: { kube: kubeTarget(e) },
    };
    if (flag(e.http_logs_enabled) === true) forward.log = httpLog(e);
    const refused = refusal(forward, forwards, aliases);
    if (refused !== undefined) {
      skipped.push({ alias, reason: refused });
      return;
    }
    used.add(id);
    if (id !== alias) notes.push({ alias, note: `forward id "${id}"` });
    for (const note of entryNotes) notes.push({ alias, note });
    forwards.push(forward);
    aliases.push(alias);
  });

  return { config: { forwards }, skipped, notes };
}
