import { existsSync, readFileSync } from 'node:fs';
import { findNodeAtLocation, parseTree, printParseErrorCode, type ParseError } from 'jsonc-parser';
import type { EncoderOptions } from '../encoders/encoder.js';
import type { WriterOptions } from '../writers/writer.js';
import { parseDuration } from '../core/duration.js';
import { encoderFileHeader, encoderPlan } from '../encoders/registry.js';
import { checkWriterOptions, requiredEncoder } from '../writers/registry.js';
import '../modules.js';
import { adminProblems, resolveAdmin } from './admin.js';
import { listenHostProblems } from './hosts.js';
import { OptionError } from '../core/module-options.js';
import { escapePointer, parseListen, schemaProblems, semanticProblems, type ConfigProblem } from './validate.js';
import { readListenTls, withInternalCertificates, type ParsedListenTls } from './listen-tls.js';
import { readUpstreamTls, type UpstreamTls } from './upstream-tls.js';
import type { Config, ForwardConfig, LogConfig, RawConfig, RawForward, RawLog } from './types.js';

export const DEFAULT_FORWARD_LOG_FILE = '~/.kflog/http_logs/{forward.id}_{listen.port}.log';

/** Thrown with every problem found; nothing has been started when it is. */
export class ConfigError extends Error {
  constructor(
    readonly source: string,
    readonly problems: Array<ConfigProblem & { line?: number; column?: number }>,
  ) {
    super(`${source}: ${problems.length} problem${problems.length === 1 ? '' : 's'}\n` + problems.map(formatProblem).join('\n'));
  }
}

export function formatProblem(p: ConfigProblem & { line?: number; column?: number }): string {
  const where = p.line !== undefined ? ` (line ${p.line}, column ${p.column})` : '';
  return `${p.pointer === '' ? '/' : p.pointer}: ${p.reason}${where}`;
}

/** Reads, parses, validates and resolves a config file. Throws ConfigError. */
export function loadConfigFile(path: string): Config {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const why = e.code === 'ENOENT' ? 'no such file' : e.code === 'EACCES' ? 'permission denied' : e.code === 'EISDIR' ? 'is a directory' : e.message;
    throw new ConfigError(path, [{ pointer: '', reason: `cannot read ${path}: ${why}` }]);
  }
  return parseConfigText(text, path);
}

export function parseConfigText(text: string, source: string): Config {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(source, [malformed(text, (err as Error).message)]);
  }
  const problems = [...schemaProblems(doc)];
  if (doc && typeof doc === 'object') problems.push(...semanticProblems(doc as Parameters<typeof semanticProblems>[0]));
  problems.push(...adminProblems(doc));
  if (problems.length > 0) throw new ConfigError(source, locate(text, problems));
  const raw = doc as RawConfig;
  const tls = raw.forwards.map((f, i) => (f.tls === undefined ? { problems: [] } : readUpstreamTls(f.tls, `/forwards/${i}/tls`)));
  const listenTls = raw.forwards.map((f, i) => (f.listen_tls === undefined ? { problems: [] } : readListenTls(f.listen_tls, `/forwards/${i}/listen_tls`)));
  const tlsProblems = [...tls, ...listenTls].flatMap((t) => t.problems);
  if (tlsProblems.length > 0) throw new ConfigError(source, locate(text, tlsProblems));
  const config = resolveConfig(raw, source, tls.map((t) => t.tls), listenTls.map((t) => t.tls));
  const moduleErrors = moduleProblems(config, doc as RawConfig);
  if (moduleErrors.length > 0) throw new ConfigError(source, locate(text, moduleErrors));
  return config;
}

/**
 * The config `kflog run` and `kflog validate` both use: --config FILE, else ./kflog.json, else the embedded
 * default; loaded, validated, and its listen host names resolved (within a deadline), so both refuse the same.
 */
export async function chooseConfig(path: string | undefined): Promise<Config> {
  const config = path ? loadConfigFile(path) : existsSync('kflog.json') ? loadConfigFile('kflog.json') : embeddedDefault();
  const problems = await listenHostProblems(config.forwards);
  if (problems.length > 0) throw new ConfigError(config.source, problems);
  const issued = await withInternalCertificates(config);
  if (issued.problems.length > 0) throw new ConfigError(config.source, issued.problems);
  return issued.config;
}

/** Where a log's writer options are written: the forward `log` shorthand, or the log's own writer. */
function writerPointer(log: LogConfig, raw: RawConfig): string {
  if (log.name.startsWith('forward.')) {
    const i = raw.forwards.findIndex((f) => `forward.${f.id}` === log.name && f.log);
    const shorthand = raw.forwards[i]?.log;
    if (i >= 0 && shorthand) return shorthand.writer !== undefined ? `/forwards/${i}/log/writer` : `/forwards/${i}/log`;
  }
  return `/logging/logs/${escapePointer(log.name)}/writer`;
}

/** The problem an OptionError (or any error) from a module's settings() makes, at `at` and below it the key. */
function optionProblem(at: string, err: unknown): ConfigProblem {
  const path = err instanceof OptionError ? err.path : [];
  return { pointer: at + path.map((k) => '/' + escapePointer(k)).join(''), reason: (err as Error).message };
}

/**
 * Every log's writer and encoder options go through their module's settings() at load, as they will when the log
 * opens: what only a module can judge (the file writer's 1 s roll minimum, a net address's port, a filter's field
 * path) is refused by `kflog validate` as by `kflog run`, at the key's place, before anything starts.
 */
function moduleProblems(config: Config, raw: RawConfig): ConfigProblem[] {
  const out: ConfigProblem[] = [];
  for (const log of config.logs) {
    try {
      encoderPlan(log.encoder);
    } catch (err) {
      out.push(optionProblem(encoderPointer(log, raw), err));
    }
  }
  for (const log of config.logs) {
    const required = requiredEncoder(log.writer.output);
    if (required !== undefined && log.encoder.format !== required) {
      out.push({
        pointer: encoderPointer(log, raw) + '/format',
        reason: `output "${log.writer.output}" takes encoder format "${required}" (found "${log.encoder.format}"); leave the encoder out to get it`,
      });
    }
  }
  for (const log of config.logs) {
    try {
      checkWriterOptions(log.writer);
    } catch (err) {
      out.push(optionProblem(writerPointer(log, raw), err));
    }
  }
  return out;
}

/** Where a log's encoder options are written: inline in the forward `log` shorthand, or the log's own encoder. */
function encoderPointer(log: LogConfig, raw: RawConfig): string {
  const shorthand = log.name.startsWith('forward.') ? raw.forwards.findIndex((f) => `forward.${f.id}` === log.name && f.log) : -1;
  return shorthand >= 0 ? `/forwards/${shorthand}/log` : `/logging/logs/${escapePointer(log.name)}/encoder`;
}

/** V8's JSON errors do not always give a position; jsonc-parser does, so it says where. */
function malformed(text: string, v8message: string): ConfigProblem & { line?: number; column?: number } {
  const errors: ParseError[] = [];
  parseTree(text, errors, { allowTrailingComma: false, disallowComments: true, allowEmptyContent: false });
  const first = errors[0];
  if (!first) return { pointer: '', reason: `malformed JSON: ${v8message}` };
  const { line, column } = lineColumn(text, first.offset);
  return { pointer: '', reason: `malformed JSON: ${describeParseError(printParseErrorCode(first.error))}`, line, column };
}

function describeParseError(code: string): string {
  return code.replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase();
}

function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lastNl = -1;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lastNl = i;
    }
  }
  return { line, column: offset - lastNl };
}

function locate(text: string, problems: ConfigProblem[]): Array<ConfigProblem & { line?: number; column?: number }> {
  const root = parseTree(text);
  if (!root) return problems;
  return problems.map((p) => {
    const path = p.pointer.split('/').slice(1).map((s) => {
      const k = s.replace(/~1/g, '/').replace(/~0/g, '~');
      return /^\d+$/.test(k) ? Number(k) : k;
    });
    // The place itself, or its nearest existing parent (a missing key is reported where it should be).
    for (let n = path.length; n >= 0; n--) {
      const node = findNodeAtLocation(root, path.slice(0, n));
      if (node) {
        // For a key, point at the key rather than its value.
        const at = node.parent?.type === 'property' && n === path.length ? node.parent.offset : node.offset;
        return { ...p, ...lineColumn(text, at) };
      }
    }
    return p;
  });
}

function ms(text: string | undefined, fallback: string): number {
  return parseDuration(text ?? fallback) ?? parseDuration(fallback)!;
}

function resolveForward(f: RawForward, tls: UpstreamTls | undefined, listenTls: ParsedListenTls | undefined): ForwardConfig {
  const listen = parseListen(f.listen);
  if ('error' in listen) throw new Error(listen.error); // unreachable: validated before
  return {
    id: f.id,
    host: listen.host,
    port: listen.port,
    target: f.target,
    tls,
    listenTls,
    capture: {
      requestBody: f.capture?.request_body ?? false,
      responseBody: f.capture?.response_body ?? false,
      maxBodyBytes: f.capture?.max_body_bytes ?? 65536,
    },
    timeouts: {
      connectMs: ms(f.timeouts?.connect, '10s'),
      headersMs: ms(f.timeouts?.headers, '60s'),
      bodyMs: ms(f.timeouts?.body, '60s'),
      idleMs: ms(f.timeouts?.idle, '60s'),
    },
    retries: f.retries ?? 0,
    abortOnClose: f.abort_on_close ?? false,
    listenH2: f.protocols?.includes('h2') ?? true,
    listenH2c: f.protocols?.includes('h2c') ?? false,
    upstreamVersion: f.versions?.[0] ?? '1.1',
    skip: f.skip ?? [],
    logEnabled: f.log !== false,
  };
}

/**
 * A format whose files must begin with a header (REST Client's variable declarations) hands it to the file
 * writer, which writes it into each file it starts: a file appended to across restarts has it once, at the top.
 */
function withFileHeader(writer: WriterOptions, encoder: EncoderOptions): WriterOptions {
  let header: string | undefined;
  try {
    header = writer.output === 'file' ? encoderFileHeader(encoder) : undefined;
  } catch {
    return writer; // options the encoder refuses: reported at their place once the config is resolved
  }
  return header === undefined ? writer : { ...writer, file_header: header };
}

function resolveLog(name: string, l: RawLog, outputDeadlineMs: number): LogConfig {
  const writer = l.writer ?? { output: 'stderr' };
  // An output that reads entries in one shape (the store) gets its format when the log names none.
  const encoder = l.encoder ?? { format: requiredEncoder(writer.output) ?? 'console' };
  return {
    name,
    writer: withFileHeader(writer, encoder),
    encoder,
    level: l.level ?? 'info',
    include: l.include ?? [],
    exclude: l.exclude ?? [],
    sampling: l.sampling
      ? { intervalMs: ms(l.sampling.interval, '1s'), first: l.sampling.first ?? 100, thereafter: l.sampling.thereafter ?? 100 }
      : undefined,
    logCredentials: l.log_credentials ?? false,
    queueBytes: l.queue_bytes ?? 16 * 1024 * 1024,
    outputDeadlineMs,
  };
}

/** The per-forward `log` shorthand is one more ordinary log: one mechanism, two spellings (docs/pipeline.md). */
function expandForwardLog(f: RawForward, outputDeadlineMs: number): LogConfig | undefined {
  if (!f.log) return undefined;
  const { filename, writer, log_credentials, ...encoder } = f.log;
  return resolveLog(`forward.${f.id}`, {
    include: [`http.log.request.${f.id}`, `http.log.access.${f.id}`],
    writer: writer ?? ({ output: 'file', filename: filename ?? DEFAULT_FORWARD_LOG_FILE } as WriterOptions),
    encoder: encoder as EncoderOptions,
    log_credentials,
  }, outputDeadlineMs);
}

/**
 * `tls` and `listenTls`: each forward's `tls` block and `listen_tls` with their files read (readUpstreamTls,
 * readListenTls), in the order of raw.forwards.
 */
export function resolveConfig(
  raw: RawConfig, source: string, tls: ReadonlyArray<UpstreamTls | undefined> = [], listenTls: ReadonlyArray<ParsedListenTls | undefined> = [],
): Config {
  const logs: LogConfig[] = [];
  const configured = raw.logging?.logs ?? {};
  const outputDeadlineMs = ms(raw.logging?.output_deadline, '5s');
  if (!('default' in configured)) logs.push(resolveLog('default', {}, outputDeadlineMs));
  for (const [name, l] of Object.entries(configured)) logs.push(resolveLog(name, l, outputDeadlineMs));
  for (const f of raw.forwards) {
    const l = expandForwardLog(f, outputDeadlineMs);
    if (l) logs.push(l);
  }
  return {
    forwards: raw.forwards.map((f, i) => resolveForward(f, tls[i], listenTls[i])),
    logs,
    shutdownTimeoutMs: ms(raw.shutdown_timeout, '10s'),
    outputDeadlineMs,
    traceId: raw.trace_id ?? 'v7',
    logThread: raw.logging?.thread ?? true,
    listenerProcesses: raw.listener_processes ?? 1,
    admin: resolveAdmin(raw.admin),
    source,
  };
}

/**
 * The embedded default: kflog runs with no file, no cluster and no upstream. One forward to the builtin sample
 * API, a console line per exchange on stderr, the full exchanges in a per-forward file as kftray keeps them, and
 * the exchange store at ~/.kflog/exchanges.db, so a newcomer can curl the demo and then `kflog ls`.
 */
export const EMBEDDED_DEFAULT: RawConfig = {
  forwards: [
    {
      id: 'demo',
      listen: '127.0.0.1:8080',
      target: { builtin: 'echo' },
      capture: { request_body: true, response_body: true, max_body_bytes: 65536 },
      log: { format: 'kftray', filename: DEFAULT_FORWARD_LOG_FILE },
    },
  ],
  logging: { logs: { store: { include: ['http.log'], writer: { output: 'store' } } } },
};

export function embeddedDefault(): Config {
  return resolveConfig(structuredClone(EMBEDDED_DEFAULT), 'embedded default');
}
