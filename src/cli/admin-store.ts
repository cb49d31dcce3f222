import { AdminHttpError, type ExchangeQueries, type ReplayAnswer, type ReplayAsked } from '../admin/server.js';
import type { Config } from '../config/types.js';
import { openStoreForReading, StoreError, type StoreDb } from '../writers/store-db.js';
import { storeWriter } from '../writers/store.js';
import { capturedRequest, CapturedRequestError } from './captured-request.js';
import { curlCommand } from './curl-command.js';
import { forwardOrigin } from './forward-origin.js';
import { listExchanges, lsQuery, type LsFlags, type LsQuery } from './ls-filters.js';
import { replayRequest } from './replay-request.js';
import { ReplayFailed, sendRequest } from './replay-send.js';
import { responseDiff } from './response-diff.js';
import { writeStoreHar } from './store-har.js';
import { KFLOG_VERSION } from './version.js';
import { entriesOf, rowJson, UsageError, type ExchangeRow } from './store-read.js';

/** Trace IDs one HAR export may name (?trace=…): a selection made by hand in the viewer, not a bulk query. */
const MAX_HAR_TRACES = 1000;
/**
 * A HAR is built in memory before it is sent: without ?limit the newest 1,000 (what the viewer's list holds at
 * most), and 10,000 at most when asked (bodies of 64 KiB each way make that ~1 GiB); `kflog export --har` has no bound.
 */
const HAR_DEFAULT_LIMIT = 1000;
const HAR_MAX_LIMIT = 10_000;

/** The API's query parameters and the `kflog ls` flags they are: the same names, snake_case for the two-word one. */
const PARAMS: ReadonlyArray<[string, keyof LsFlags]> = [
  ['forward', 'forward'], ['method', 'method'], ['status', 'status'], ['path', 'path'], ['since', 'since'],
  ['until', 'until'], ['slower_than', 'slowerThan'], ['grep', 'grep'], ['limit', 'limit'],
];

/** `--slower-than "x": …` as the API spells the parameter: `slower_than "x": …`. */
function asParameter(message: string): string {
  return message.replace(/^--([a-z-]+)/, (_m, flag: string) => flag.replace(/-/g, '_'));
}

/**
 * The admin API's view of the store a config's store log writes: `kflog ls`'s filters and JSON rows, so
 * `GET /api/exchanges?status=5xx` answers what `kflog ls --status 5xx --json` prints. undefined without a store log.
 */
export function storeQueries(config: Config): ExchangeQueries | undefined {
  const log = config.logs.find((l) => l.writer.output === 'store');
  if (log === undefined) return undefined;
  const path = storeWriter.settings(log.writer).path;
  const reading = <T>(read: (db: ReturnType<typeof openStoreForReading>) => T): T => {
    let db: ReturnType<typeof openStoreForReading>;
    try {
      db = openStoreForReading(path);
    } catch (err) {
      if (err instanceof StoreError) throw new AdminHttpError(503, err.message);
      throw err;
    }
    try {
      return read(db);
    } finally {
      db.close();
    }
  };
  const row = (traceId: string): ExchangeRow | undefined =>
    reading((db) => db.prepare('SELECT * FROM exchanges WHERE trace_id = ?').get(traceId) as ExchangeRow | undefined);
  return {
    list(params) {
      return reading((db) => listExchanges(db, filterQuery(params, [])).map(rowJson));
    },
    one(traceId) {
      const r = row(traceId);
      return r === undefined ? undefined : rowJson(r);
    },
    curl(traceId) {
      const r = row(traceId);
      if (r === undefined) return undefined;
      return curlCommand(requestOf(r), forwardOrigin(config, r));
    },
    async replay(traceId, asked) {
      const r = row(traceId);
      if (r === undefined) return undefined;
      return replayed(r, config, asked);
    },
    har(params, write) {
      const query = filterQuery(params, ['trace']);
      const traces = params.getAll('trace');
      if (traces.length > MAX_HAR_TRACES) throw new AdminHttpError(400, `trace: at most ${MAX_HAR_TRACES} trace IDs in one export`);
      if (traces.some((t) => !/^[0-9A-Za-z-]{1,64}$/.test(t))) throw new AdminHttpError(400, 'trace: expected trace IDs');
      if (traces.length > 0) {
        query.where.push(`trace_id IN (${traces.map(() => '?').join(', ')})`);
        query.params.push(...traces);
      }
      const limit = params.get('limit') === null ? HAR_DEFAULT_LIMIT : query.limit;
      if (limit > HAR_MAX_LIMIT) throw new AdminHttpError(400, `limit "${limit}": at most ${HAR_MAX_LIMIT} in one export from the API (kflog export --har has no bound)`);
      return reading((db: StoreDb) => writeStoreHar(db, query, limit, write, KFLOG_VERSION, { logCredentials: false }).written);
    },
  };
}

/** kflog ls's filters from the API's parameters (and the `extra` ones the caller reads itself); a bad one is a 400. */
function filterQuery(params: URLSearchParams, extra: string[]): LsQuery {
  const flags: LsFlags = {};
  for (const [name, flag] of PARAMS) {
    const v = params.get(name);
    if (v !== null) flags[flag] = v;
  }
  const unknown = [...params.keys()].find((k) => !PARAMS.some(([name]) => name === k) && !extra.includes(k));
  if (unknown !== undefined) throw new AdminHttpError(400, `unknown parameter "${unknown}" (known: ${[...PARAMS.map(([n]) => n), ...extra].join(', ')})`);
  try {
    return lsQuery(flags, Date.now());
  } catch (err) {
    if (err instanceof UsageError) throw new AdminHttpError(400, asParameter(err.message));
    throw err;
  }
}

function requestOf(row: ExchangeRow): ReturnType<typeof capturedRequest> {
  try {
    return capturedRequest(row);
  } catch (err) {
    // A malformed request: there is nothing to send again.
    if (err instanceof CapturedRequestError) throw new AdminHttpError(409, err.message);
    throw err;
  }
}

/** `kflog replay` for the viewer: the same request, built and sent by the same modules, answered as JSON. */
async function replayed(row: ExchangeRow, config: Config, asked: ReplayAsked): Promise<ReplayAnswer> {
  const captured = requestOf(row);
  if (captured.incomplete !== undefined && asked.body === undefined && !asked.force) {
    throw new AdminHttpError(409, `trace ${row.trace_id} is not sent: ${captured.incomplete}; send it with force, or give a body`);
  }
  let built;
  try {
    built = replayRequest(captured, row, config, { headers: asked.headers, body: asked.body });
  } catch (err) {
    if (err instanceof UsageError) throw new AdminHttpError(400, err.message);
    if (err instanceof ReplayFailed) throw new AdminHttpError(409, err.message);
    throw err;
  }
  let response;
  try {
    response = await sendRequest(built.sent);
  } catch (err) {
    if (err instanceof ReplayFailed) throw new AdminHttpError(502, err.message);
    throw err;
  }
  const { access } = entriesOf(row);
  return {
    replay_of: row.trace_id,
    method: built.sent.method,
    url: built.sent.url,
    via: built.via,
    warnings: [...built.warnings, ...(captured.bodyNote !== undefined && asked.body === undefined ? [captured.bodyNote] : [])],
    status: response.status,
    took_ms: Math.round(response.tookMs),
    differences: access === undefined ? null : responseDiff(access, response),
  };
}
