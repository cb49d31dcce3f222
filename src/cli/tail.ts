import { existsSync } from 'node:fs';
import { Command } from 'commander';
import { Agent, request } from 'undici';
import { ConfigError, embeddedDefault, loadConfigFile } from '../config/load.js';
import type { Encoder } from '../encoders/encoder.js';
import { createEncoder } from '../encoders/registry.js';
import { entryOfJsonLine } from '../export/json-entries.js';
import { LiveFilter } from './live-filter.js';
import type { LsFlags } from './ls-filters.js';
import { SseParser, type SseEvent } from './sse-events.js';
import { UsageError } from './store-read.js';

interface TailOptions extends Omit<LsFlags, 'since' | 'until' | 'limit'> {
  admin?: string;
  token?: string;
  config?: string;
  json?: boolean;
}

/** Deadlines on the admin listener: reaching it, its answer's head, and a stream that goes silent. */
const CONNECT_TIMEOUT_MS = 3000;
const HEADERS_TIMEOUT_MS = 5000;
/** /api/stream sends a comment every 15 s when there is nothing else: three missed mean kflog is gone or stuck. */
const SILENCE_TIMEOUT_MS = 45_000;

/** Why tail stopped: one line for stderr, and the exit code. */
class TailStop extends Error {
  constructor(
    message: string,
    readonly code: number,
  ) {
    super(message);
  }
}

/** --admin, else the admin listener of --config (or ./kflog.json, or the embedded default kflog run uses). */
function adminUrl(opts: TailOptions): string {
  if (opts.admin !== undefined) {
    let url: URL;
    try {
      url = new URL(opts.admin);
    } catch {
      throw new UsageError(`--admin "${opts.admin}": expected the admin listener's URL, such as http://127.0.0.1:2019`);
    }
    if (url.protocol !== 'http:') throw new UsageError(`--admin "${opts.admin}": expected an http:// URL`);
    return url.origin;
  }
  const path = opts.config ?? (existsSync('kflog.json') ? 'kflog.json' : undefined);
  const config = path !== undefined ? loadConfigFile(path) : embeddedDefault();
  if (config.admin === undefined) throw new TailStop(`${config.source} has no admin listener ("admin": false): nothing to follow`, 1);
  opts.token ??= config.admin.token;
  const host = config.admin.host.includes(':') ? `[${config.admin.host}]` : config.admin.host;
  return `http://${host === '0.0.0.0' ? '127.0.0.1' : host === '[::]' ? '[::1]' : host}:${config.admin.port}`;
}

/** Reads /api/stream until it ends; prints each exchange the filter keeps. */
async function follow(base: string, token: string | undefined, filter: LiveFilter, print: (data: string) => void): Promise<never> {
  const dispatcher = new Agent({ connect: { timeout: CONNECT_TIMEOUT_MS } });
  let res;
  try {
    res = await request(`${base}/api/stream`, {
      dispatcher,
      headers: token !== undefined ? { authorization: `Bearer ${token}` } : {},
      headersTimeout: HEADERS_TIMEOUT_MS,
      bodyTimeout: SILENCE_TIMEOUT_MS,
    });
  } catch (err) {
    throw unreachable(base, err as NodeJS.ErrnoException);
  }
  if (res.statusCode !== 200) {
    const why = (await res.body.text().catch(() => '')).trim().split('\n')[0] ?? '';
    if (res.statusCode === 401) throw new TailStop(`the kflog at ${base} asks for its admin token: give --token or KFLOG_ADMIN_TOKEN`, 1);
    throw new TailStop(`the kflog at ${base} answered ${res.statusCode}${why !== '' ? `: ${why}` : ''}`, 1);
  }
  process.stderr.write(`kflog: following ${base}/api/stream (Ctrl-C ends)\n`);
  const parser = new SseParser((e: SseEvent) => {
    if (e.event === 'exchange') print(e.data);
    else if (e.event === 'missed') {
      const n = (JSON.parse(e.data) as { missed?: number }).missed ?? 0;
      process.stderr.write(`kflog: ${n} exchanges missed: this terminal did not keep up with kflog\n`);
    }
  });
  res.body.setEncoding('utf8');
  try {
    for await (const chunk of res.body) parser.push(chunk as string);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'UND_ERR_BODY_TIMEOUT') throw new TailStop(`the kflog at ${base} went silent (nothing for ${SILENCE_TIMEOUT_MS / 1000} s)`, 1);
    throw new TailStop(`the stream from ${base} broke: ${(err as Error).message}`, 1);
  }
  throw new TailStop(`the kflog at ${base} stopped`, 0);
}

function unreachable(base: string, err: NodeJS.ErrnoException): TailStop {
  if (err.code === 'ECONNREFUSED') return new TailStop(`no kflog is listening at ${base} (start one with kflog run, or give --admin URL)`, 1);
  if (err.code === 'UND_ERR_CONNECT_TIMEOUT' || err.code === 'UND_ERR_HEADERS_TIMEOUT') {
    return new TailStop(`no answer from ${base} within ${(err.code === 'UND_ERR_CONNECT_TIMEOUT' ? CONNECT_TIMEOUT_MS : HEADERS_TIMEOUT_MS) / 1000} s`, 1);
  }
  return new TailStop(`cannot reach ${base}: ${err.message}`, 1);
}

/** Each exchange the filter keeps, as a console line (colours on a terminal) or, with --json, as the json line. */
function printer(opts: TailOptions, filter: LiveFilter): (data: string) => void {
  const console: Encoder | undefined = opts.json === true ? undefined : createEncoder({ format: 'console' }, { logCredentials: false, isTTY: process.stdout.isTTY === true });
  return (data) => {
    const entry = entryOfJsonLine(data);
    if (entry === undefined || entry.kind !== 'access' || !filter.keeps(entry)) return;
    const line = console === undefined ? data + '\n' : console.encode(entry);
    if (line !== null) process.stdout.write(line);
  };
}

export function tailCommand(): Command {
  return new Command('tail')
    .description("follow a running kflog's exchanges as they end, through its admin listener, with kflog ls's filters")
    .option('--admin <url>', 'the admin listener (default: the admin of the config, else http://127.0.0.1:2019)')
    .option('--token <token>', "the admin listener's token (default: KFLOG_ADMIN_TOKEN, else the config's admin.token)")
    .option('-c, --config <file>', 'the config whose admin listener to follow (default: ./kflog.json when present)')
    .option('--forward <id>', 'only this forward')
    .option('--method <method>', 'only this method')
    .option('--status <status>', 'a status (404) or a class (5xx)')
    .option('--path <glob>', 'paths matching this glob (* ? [...])')
    .option('--slower-than <duration>', 'took longer than this (500ms, 2s)')
    .option('--grep <text>', 'every word of it in the path, headers or body text')
    .option('--json', 'the json line of each exchange (for jq)')
    .action(async (opts: TailOptions) => {
      let filter: LiveFilter | undefined;
      try {
        opts.token ??= process.env.KFLOG_ADMIN_TOKEN;
        filter = new LiveFilter(opts);
        const base = adminUrl(opts);
        await follow(base, opts.token, filter, printer(opts, filter));
      } catch (err) {
        if (err instanceof UsageError) {
          process.stderr.write(`kflog: ${err.message}\n`);
          process.exitCode = 2;
        } else if (err instanceof TailStop || err instanceof ConfigError) {
          process.stderr.write(`kflog: ${err.message.split('\n').join('; ')}\n`);
          process.exitCode = err instanceof TailStop ? err.code : 1;
        } else throw err;
      } finally {
        filter?.close();
      }
    });
}
