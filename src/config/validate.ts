import { existsSync } from 'node:fs';
import { isIP } from 'node:net';
import { fileURLToPath } from 'node:url';
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { parseAge, parseDuration } from '../core/duration.js';
import { configSchema } from './schema.js';

/** One problem with a config: where (JSON pointer, "" for the root) and why. */
export interface ConfigProblem {
  pointer: string;
  reason: string;
}

const SCHEMA_PATH = fileURLToPath(new URL('../../../config.schema.json', import.meta.url));
const SCHEMA_PATH_SRC = fileURLToPath(new URL('../../config.schema.json', import.meta.url));

/** Where kflog's config.schema.json is, for `"$schema"` in configs kflog writes (import-kftray). */
export function schemaFile(): string {
  return existsSync(SCHEMA_PATH) ? SCHEMA_PATH : SCHEMA_PATH_SRC;
}

let validator: ValidateFunction | undefined;

function compile(): ValidateFunction {
  if (validator) return validator;
  const ajv = new Ajv2020({ allErrors: true, verbose: true, strict: true, strictTypes: false, strictRequired: false, allowUnionTypes: true });
  addFormats.default(ajv);
  ajv.addFormat('duration', { type: 'string', validate: (s: string) => parseDuration(s) !== undefined });
  // Retention speaks in days, which Go-style durations lack.
  ajv.addFormat('age', { type: 'string', validate: (s: string) => parseAge(s) !== undefined });
  ajv.addFormat('http-url', {
    type: 'string',
    validate: (s: string) => {
      try {
        const u = new URL(s);
        return (u.protocol === 'http:' || u.protocol === 'https:') && u.hostname !== '';
      } catch {
        return false;
      }
    },
  });
  // listen addresses are checked in semantic(), where the message can say what exactly is wrong.
  ajv.addFormat('listen-address', { type: 'string', validate: () => true });
  validator = ajv.compile(configSchema());
  return validator;
}

const GENERIC = new Set(['oneOf', 'anyOf', 'not', 'if', 'const', 'type', 'minProperties', 'maxProperties']);

function describe(e: ErrorObject): ConfigProblem {
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'additionalProperties':
    case 'unevaluatedProperties': {
      const key = String(p.additionalProperty ?? p.unevaluatedProperty);
      return { pointer: `${e.instancePath}/${escapePointer(key)}`, reason: `unknown key "${key}"` };
    }
    case 'required':
      return { pointer: `${e.instancePath}/${escapePointer(String(p.missingProperty))}`, reason: 'is required' };
    case 'format':
      return { pointer: e.instancePath, reason: formatReason(String(p.format)) };
    case 'enum':
      return {
        pointer: e.instancePath,
        reason: `must be one of ${(p.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`,
      };
    case 'pattern':
      return { pointer: e.instancePath, reason: patternReason(e.instancePath, String(p.pattern)) };
    case 'type':
      return { pointer: e.instancePath, reason: `must be ${typeName(p.type)} (found ${found(e.data)})` };
    case 'contains':
      // The one `contains` of the schema: ajv's "must contain at least 1 valid item(s)" does not say which item.
      if (/\/protocols$/.test(e.instancePath)) {
        return { pointer: e.instancePath, reason: '"h1" is required: HTTP/1.1 is always served beside "h2" and "h2c", as in Caddy' };
      }
      return { pointer: e.instancePath, reason: e.message ?? e.keyword };
    default:
      return { pointer: e.instancePath, reason: e.message ?? e.keyword };
  }
}

/** "string", "integer or string": ajv gives one type or a list. */
function typeName(type: unknown): string {
  return Array.isArray(type) ? type.join(' or ') : String(type);
}

/** The value a wrong-type error found, short enough for one line: `number 8080`, `object {…}`, `null`. */
export function found(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return `array of ${value.length}`;
  if (typeof value === 'object') return 'an object';
  const text = JSON.stringify(value) ?? String(value);
  return `${typeof value} ${text.length > 40 ? text.slice(0, 37) + '…' : text}`;
}

function formatReason(format: string): string {
  if (format === 'duration') return 'must be a duration such as "250ms", "1s", "1m30s" or "24h"';
  if (format === 'age') return 'must be a duration such as "7d", "12h" or "1d12h"';
  if (format === 'http-url') return 'must be an http:// or https:// URL with a host';
  return `must be a valid ${format}`;
}

function patternReason(pointer: string, pattern: string): string {
  if (/\/forwards\/\d+\/id$/.test(pointer)) {
    return 'must be lower-case letters, digits, "-" and "_", starting with a letter or digit';
  }
  if (pointer.endsWith('/mode') || pointer.endsWith('/dir_mode')) return 'must be an octal mode such as "0600"';
  return `must match ${pattern}`;
}

export function escapePointer(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}

/** Schema check. Generic combinator errors are dropped where a more precise error explains the same place. */
export function schemaProblems(doc: unknown): ConfigProblem[] {
  const validate = compile();
  if (validate(doc)) return [];
  // Inline oneOf branches that only say "this key is (not) required" restate the oneOf itself.
  const errors = (validate.errors ?? []).filter(
    (e) => e.keyword !== 'if' && !((e.keyword === 'required' || e.keyword === 'not') && /\/oneOf\/\d+\//.test(e.schemaPath)),
  );
  const specific = errors.filter((e) => !GENERIC.has(e.keyword));
  const out: ConfigProblem[] = [];
  for (const e of errors) {
    if (e.keyword === 'unevaluatedProperties') {
      // A key whose value failed its own schema is no longer "evaluated": its own error says what is wrong.
      const key = escapePointer(String((e.params as { unevaluatedProperty?: unknown }).unevaluatedProperty));
      const at = `${e.instancePath}/${key}`;
      if (errors.some((x) => x !== e && (x.instancePath === at || x.instancePath.startsWith(at + '/')))) continue;
    }
    if (GENERIC.has(e.keyword)) {
      // A oneOf/type error is noise when a precise error exists at this place or below it.
      const explained = specific.some(
        (s) => s.instancePath === e.instancePath || s.instancePath.startsWith(e.instancePath + '/'),
      );
      if (explained) continue;
      // The alternatives of a oneOf/anyOf are summed up by its own message at the same place.
      const summed = (e.keyword === 'type' || e.keyword === 'const') &&
        errors.some((x) => (x.keyword === 'oneOf' || x.keyword === 'anyOf') && x.instancePath === e.instancePath);
      if (summed) continue;
      out.push(genericReason(e, errors));
      continue;
    }
    out.push(describe(e));
  }
  return dedupe(out);
}

function genericReason(e: ErrorObject, all: ErrorObject[]): ConfigProblem {
  if (/\/target$/.test(e.instancePath) && (e.keyword === 'minProperties' || e.keyword === 'maxProperties')) {
    return { pointer: e.instancePath, reason: 'must have exactly one of "url", "builtin" or "kube"' };
  }
  if (/\/kube$/.test(e.instancePath) && e.keyword === 'oneOf') {
    return { pointer: e.instancePath, reason: 'must name exactly one of "service", "pod" or "selector"' };
  }
  if (e.keyword === 'oneOf' || e.keyword === 'anyOf') {
    // Summarise the alternatives from their own type/const errors at this place.
    const alts = all
      .filter((x) => x.instancePath === e.instancePath && (x.keyword === 'type' || x.keyword === 'const'))
      .map((x) =>
        x.keyword === 'const'
          ? JSON.stringify((x.params as { allowedValue: unknown }).allowedValue)
          : `a value of type ${String((x.params as { type: unknown }).type)}`,
      );
    const value = all.find((x) => x.instancePath === e.instancePath)?.data;
    return {
      pointer: e.instancePath,
      reason: alts.length ? `must be ${[...new Set(alts)].join(' or ')} (found ${found(value)})` : (e.message ?? 'is invalid'),
    };
  }
  return describe(e);
}

function dedupe(list: ConfigProblem[]): ConfigProblem[] {
  const seen = new Set<string>();
  return list.filter((p) => {
    const k = p.pointer + '\0' + p.reason;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/** Checks the schema cannot express: uniqueness, listen addresses, placeholders, reserved log names. */
export function semanticProblems(doc: RawDoc): ConfigProblem[] {
  const out: ConfigProblem[] = [];
  const ids = new Map<string, number>();
  const listens = new Map<string, number>();
  const forwards = Array.isArray(doc.forwards) ? doc.forwards : [];
  forwards.forEach((f, i) => {
    if (typeof f.id === 'string') {
      const prev = ids.get(f.id);
      if (prev !== undefined) out.push({ pointer: `/forwards/${i}/id`, reason: `duplicate forward id "${f.id}" (also /forwards/${prev}/id)` });
      else ids.set(f.id, i);
    }
    if (typeof f.listen === 'string') {
      const parsed = parseListen(f.listen);
      if ('error' in parsed) {
        out.push({ pointer: `/forwards/${i}/listen`, reason: parsed.error });
      } else if (parsed.port !== 0) {
        const keys = listenKeys(parsed.host, parsed.port);
        const prev = keys.check.map((k) => listens.get(k)).find((n) => n !== undefined);
        if (prev !== undefined) {
          out.push({ pointer: `/forwards/${i}/listen`, reason: `listen address "${f.listen}" is already used by /forwards/${prev}` });
        }
        for (const key of keys.claim) if (!listens.has(key)) listens.set(key, i);
      }
    }
    out.push(...tlsTargetProblems(f.target, f.tls, i));
    const version = Array.isArray(f.versions) ? f.versions[0] : undefined;
    const versionProblem = upstreamVersionProblem(version, f.target);
    if (versionProblem !== undefined) out.push({ pointer: `/forwards/${i}/versions/0`, reason: versionProblem });
    if (f.log && typeof f.log === 'object') {
      const shorthand = f.log as { filename?: unknown; writer?: { filename?: unknown } };
      for (const [at, filename] of [['filename', shorthand.filename], ['writer/filename', shorthand.writer?.filename]] as const) {
        const bad = typeof filename === 'string' ? unknownPlaceholder(filename) : undefined;
        if (bad) out.push({ pointer: `/forwards/${i}/log/${at}`, reason: `unknown placeholder {${bad}} (known: {forward.id}, {listen.port})` });
      }
    }
    if (f.log && typeof f.log === 'object' && doc.logging?.logs && `forward.${f.id}` in doc.logging.logs) {
      out.push({ pointer: `/logging/logs/forward.${f.id}`, reason: `log name is taken by the "log" shorthand of /forwards/${i}` });
    }
  });
  const logs = doc.logging?.logs ?? {};
  for (const [name, log] of Object.entries(logs)) {
    const filename = log?.writer?.filename;
    if (typeof filename === 'string') {
      const bad = unknownPlaceholder(filename);
      if (bad) out.push({ pointer: `/logging/logs/${escapePointer(name)}/writer/filename`, reason: `unknown placeholder {${bad}} (known: {forward.id}, {listen.port})` });
    }
    const interval = log?.writer?.roll_interval;
    if (typeof interval === 'string' && interval !== 'hourly' && interval !== 'daily' && parseDuration(interval) === undefined) {
      out.push({ pointer: `/logging/logs/${escapePointer(name)}/writer/roll_interval`, reason: 'must be "hourly", "daily" or a duration such as "15m"' });
    }
  }
  return out;
}

interface RawDoc {
  forwards?: Array<{ id?: unknown; listen?: unknown; log?: unknown; target?: unknown; tls?: unknown; versions?: unknown }>;
  logging?: { logs?: Record<string, { writer?: { filename?: unknown; roll_interval?: unknown } } | undefined> };
}

/**
 * Why an upstream version cannot be spoken to this target, if it cannot: HTTP/2 over TLS ("2") needs an https://
 * target and HTTP/2 in cleartext ("h2c") a cleartext one; the builtin echo speaks HTTP/1.1 only.
 */
function upstreamVersionProblem(version: unknown, target: unknown): string | undefined {
  if (version !== '2' && version !== 'h2c') return undefined;
  const t = (target ?? {}) as { url?: unknown; builtin?: unknown; kube?: unknown };
  if (t.builtin !== undefined) return `"${version}": the builtin echo target speaks HTTP/1.1 only`;
  const https = typeof t.url === 'string' && t.url.startsWith('https:');
  if (version === '2' && !https) {
    return '"2" is HTTP/2 over TLS, which only an https:// url target is dialled with: use "h2c" for HTTP/2 in cleartext';
  }
  if (version === 'h2c' && https) return '"h2c" is HTTP/2 in cleartext: an https:// target speaks HTTP/2 with "2"';
  return undefined;
}

function unknownPlaceholder(filename: string): string | undefined {
  for (const m of filename.matchAll(/\{([^}]*)\}/g)) {
    if (m[1] !== 'forward.id' && m[1] !== 'listen.port') return m[1];
  }
  return undefined;
}

/**
 * Where a listen address conflicts: a wildcard host takes the port on every address, so it clashes with any
 * earlier listener on that port; a specific host clashes with the same host or an earlier wildcard only
 * (127.0.0.2:8080 and 127.0.0.3:8080 both bind).
 */
function listenKeys(host: string, port: number): { check: string[]; claim: string[] } {
  const wildcard = host === '0.0.0.0' || host === '::' || host === '';
  return wildcard
    ? { check: [`any:${port}`], claim: [`*:${port}`, `any:${port}`] }
    : { check: [`${host}:${port}`, `*:${port}`], claim: [`${host}:${port}`, `any:${port}`] };
}

const HOST_NAME = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/;

/** Why a listen host can be neither bound nor resolved, judged by its spelling (names are resolved at load). */
function listenHostError(host: string, bracketed: boolean): string | undefined {
  if (host === '') return undefined; // ":8080": every address
  if (bracketed) return isIP(host) === 6 ? undefined : `host "[${host}]" is not an IPv6 address`;
  if (isIP(host) !== 0) return undefined;
  if (/^[0-9.]+$/.test(host)) return `host "${host}" is not an IP address (an IPv4 address is four numbers from 0 to 255)`;
  if (!HOST_NAME.test(host)) return `host "${host}" is neither an IP address nor a host name`;
  return undefined;
}

export function parseListen(listen: string): { host: string; port: number } | { error: string } {
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:[\]]*)):(\d+)$/.exec(listen);
  if (!m) return { error: `must be host:port, e.g. "127.0.0.1:8080" or "[::1]:8080" (got "${listen}")` };
  const port = Number(m[3]);
  if (!Number.isInteger(port) || port > 65535) return { error: `port ${m[3]} is out of range (0–65535, 0 picks a free port)` };
  const host = m[1] ?? m[2] ?? '';
  const hostError = listenHostError(host, m[1] !== undefined);
  if (hostError !== undefined) return { error: hostError };
  return { host, port };
}

/**
 * `tls` dials an https:// url target, or speaks TLS inside a Kubernetes target's port-forward stream (the pod
 * serves HTTPS). A kube service's certificate is checked against its cluster DNS name; a pod or selector target has
 * no such name, so it needs server_name (or insecure_skip_verify).
 */
function tlsTargetProblems(target: unknown, tls: unknown, i: number): ConfigProblem[] {
  if (tls === undefined) return [];
  const t = target as { url?: unknown; kube?: { service?: unknown } } | undefined;
  if (t?.kube !== undefined && typeof t.kube === 'object') {
    const named = tls as { server_name?: unknown; insecure_skip_verify?: unknown } | null;
    if (t.kube.service === undefined && named?.server_name === undefined && named?.insecure_skip_verify !== true) {
      return [{
        pointer: `/forwards/${i}/tls/server_name`,
        reason: 'a pod or selector target has no cluster DNS name to check its certificate against (a service has <service>.<namespace>.svc): set server_name',
      }];
    }
    return [];
  }
  if (typeof t?.url === 'string' && t.url.startsWith('https:')) return [];
  return [{ pointer: `/forwards/${i}/tls`, reason: 'tls is only for an https:// url target or a kube target: this target is not dialled with TLS, so its options would be ignored' }];
}
