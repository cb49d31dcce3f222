import { render } from 'preact';
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, forgetToken, getJson, postJson, readStream, saveToken, Unauthorized } from './api.js';
import { Detail } from './detail.js';
import { download } from './download.js';
import { filterParams, matches, NO_FILTERS, type Filters } from './filters.js';
import { clock, duration, size } from './format.js';
import { fromStore, fromStream, type Row, type StoreRow } from './row.js';
import { TokenForm } from './token-form.js';

/** Rows the page keeps: the newest; older ones fall off the end so a long session does not grow the tab. */
export const MAX_ROWS = 1000;
/** Rows of the first page, read from the store when the page opens or a filter changes. */
const FIRST_PAGE = 200;
/** Live rows are gathered and drawn together this often: well within the second an exchange has to show. */
const DRAW_MS = 100;
/** A text filter is applied once typing pauses this long. */
const TYPING_MS = 300;
/** What a row keeps of its event's text for filtering again later: the live filter judged the whole of it on arrival. */
const KEPT_TEXT = 2048;
/** Waiting before reconnecting a lost stream, doubled up to the last. */
const RECONNECT_MS = [500, 1000, 2000, 5000];

type Auth = 'checking' | 'needed' | 'wrong' | 'ok';

function insert(rows: Row[], fresh: Row[]): Row[] {
  if (fresh.length === 0) return rows;
  const ids = new Set(fresh.map((r) => r.trace_id));
  // The newest arrived last: it goes on top.
  return [...fresh.slice().reverse(), ...rows.filter((r) => !ids.has(r.trace_id))].slice(0, MAX_ROWS);
}

/** A live row and the filters it passed on arrival (on the whole of its text, which it keeps only the start of). */
interface Judged {
  row: Row;
  by: Filters;
}

/** The rows that pass `filters`: judged again when the filters changed since they arrived (and a first page was read under the new ones). */
function stillMatching(judged: Judged[], filters: Filters): Row[] {
  return judged.filter((j) => j.by === filters || matches(j.row, filters)).map((j) => j.row);
}

function statusClass(status: number | null): string {
  return status === null ? 'pending' : `s${Math.floor(status / 100)}xx`;
}

function FilterBar(props: { filters: Filters; forwards: string[]; onChange: (f: Filters) => void; textRef: { current: HTMLInputElement | null } }) {
  const f = props.filters;
  const set = (key: keyof Filters) => (e: Event) => props.onChange({ ...f, [key]: (e.target as HTMLInputElement).value });
  return (
    <form class="filters" role="search" onSubmit={(e) => e.preventDefault()}>
      <label>forward
        <select name="forward" value={f.forward} onChange={set('forward')}>
          {['', ...props.forwards].map((id) => <option value={id}>{id === '' ? 'any' : id}</option>)}
        </select>
      </label>
      <label>method
        <select name="method" value={f.method} onChange={set('method')}>
          {['', 'GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'].map((m) => <option value={m}>{m === '' ? 'any' : m}</option>)}
        </select>
      </label>
      <label>status
        <select name="status" value={f.status} onChange={set('status')}>
          {['', '1xx', '2xx', '3xx', '4xx', '5xx'].map((s) => <option value={s}>{s === '' ? 'any' : s}</option>)}
        </select>
      </label>
      <label>slower than <input name="slower_than" value={f.slower_than} onInput={set('slower_than')} placeholder="500ms" size={6} /></label>
      <label class="grow">text <input name="grep" ref={props.textRef} value={f.grep} onInput={set('grep')} placeholder="full-text search (press /)" /></label>
    </form>
  );
}

function ListRow(props: { row: Row; selected: boolean; onClick: () => void; onOpen: (trace: string) => void }) {
  const r = props.row;
  return (
    <tr class={props.selected ? 'selected' : ''} data-trace={r.trace_id} data-replay-of={r.replay_of ?? undefined} onClick={props.onClick} aria-selected={props.selected}>
      <td class="mono">{clock(r.ts)}</td>
      <td>{r.forward}</td>
      <td class="mono">{r.method}</td>
      <td class="mono path" title={r.uri}>
        {r.replay_of !== null && (
          <button type="button" class="replay-mark" title={`replay of ${r.replay_of}`} onClick={(e) => {
            e.stopPropagation();
            props.onOpen(r.replay_of!);
          }}>↻</button>
        )}
        {r.uri}
      </td>
      <td class={`status ${statusClass(r.status)}`}>{r.status ?? '…'}</td>
      <td class="num">{duration(r.duration_ms)}</td>
      <td class="num">{size(r.size)}</td>
    </tr>
  );
}

function App() {
  const [auth, setAuth] = useState<Auth>('checking');
  const [rows, setRows] = useState<Row[]>([]);
  const [paused, setPaused] = useState(false);
  const [waiting, setWaiting] = useState(0);
  const [filters, setFilters] = useState<Filters>(NO_FILTERS);
  const [applied, setApplied] = useState<Filters>(NO_FILTERS);
  const [selected, setSelected] = useState<string | undefined>();
  const [open, setOpen] = useState<string | undefined>();
  const [connected, setConnected] = useState(false);
  const [missed, setMissed] = useState(0);
  const [error, setError] = useState<string | undefined>();
  const [loading, setLoading] = useState(false);
  /** A Clear sent and not yet answered (the list's data-clearing, for the tests to wait on). */
  const [clearing, setClearing] = useState(false);
  const [forwards, setForwards] = useState<string[]>([]);
  /** Bumped by Clear: a first page still being read when the list was cleared is dropped. */
  const cleared = useRef(0);
  const textRef = useRef<HTMLInputElement | null>(null);
  // What the stream's handler reads without restarting the stream.
  const live = useRef({ paused: false, filters: NO_FILTERS, incoming: [] as Judged[], held: [] as Judged[], timer: 0 });

  const checkAuth = useCallback(async () => {
    try {
      await getJson('/api/health');
      setAuth('ok');
      // The forwards to filter by: the running config's (its credentials are masked by the API).
      const config = await getJson<{ forwards?: Array<{ id?: unknown }> }>('/api/config');
      setForwards((config.forwards ?? []).flatMap((f) => (typeof f.id === 'string' ? [f.id] : [])));
    } catch (err) {
      if (err instanceof Unauthorized) setAuth((a) => (a === 'checking' ? 'needed' : 'wrong'));
      else setError(err instanceof Error ? err.message : String(err));
    }
  }, []);
  useEffect(() => void checkAuth(), []);

  // Text fields apply once typing pauses; the choices at once.
  useEffect(() => {
    const t = setTimeout(() => setApplied(filters), filters.grep !== applied.grep || filters.slower_than !== applied.slower_than ? TYPING_MS : 0);
    return () => clearTimeout(t);
  }, [filters]);

  // The first page from the store, whenever the filters change.
  useEffect(() => {
    if (auth !== 'ok') return;
    live.current.filters = applied;
    let current = true;
    const generation = cleared.current;
    const params = filterParams(applied);
    params.set('limit', String(FIRST_PAGE));
    setLoading(true);
    getJson<{ exchanges: StoreRow[] }>(`/api/exchanges?${params}`)
      .then((answer) => {
        if (!current || generation !== cleared.current) return;
        setError(undefined);
        const page = answer.exchanges.map(fromStore).map((r) => ({ ...r, text: r.text.slice(0, KEPT_TEXT) }));
        const newest = page[0]?.ts ?? 0;
        // Rows the stream brought while the page was read stay on top.
        setRows((prev) => insert(page.slice(0, MAX_ROWS), prev.filter((r) => r.ts > newest && matches(r, applied)).reverse()));
      })
      .catch((err: unknown) => {
        if (!current) return;
        if (err instanceof Unauthorized) setAuth('wrong');
        // Without a store log there is no first page: the live feed still works.
        else setError(err instanceof Error ? err.message : String(err));
      })
      .finally(() => {
        if (current) setLoading(false);
      });
    return () => {
      current = false;
    };
  }, [auth, applied]);

  // The live feed: /api/stream, reconnected when lost.
  useEffect(() => {
    if (auth !== 'ok') return;
    const abort = new AbortController();
    const l = live.current;
    const draw = (): void => {
      l.timer = 0;
      const fresh = stillMatching(l.incoming, l.filters);
      l.incoming = [];
      setRows((prev) => insert(prev, fresh));
    };
    const onEvent = (event: string, data: string): void => {
      if (event === 'missed') {
        const n = (JSON.parse(data) as { missed?: number }).missed ?? 0;
        setMissed((m) => m + n);
        return;
      }
      if (event !== 'exchange') return;
      const row = fromStream(data);
      if (row === undefined || !matches(row, l.filters)) return;
      // A captured body may be 64 KiB each way: 1,000 rows keep only the start of theirs.
      row.text = row.text.slice(0, KEPT_TEXT);
      const judged = { row, by: l.filters };
      if (l.paused) {
        l.held.push(judged);
        if (l.held.length > MAX_ROWS) l.held.shift();
        setWaiting((n) => n + 1);
        return;
      }
      l.incoming.push(judged);
      if (l.timer === 0) l.timer = window.setTimeout(draw, DRAW_MS);
    };
    void (async () => {
      for (let attempt = 0; !abort.signal.aborted; attempt++) {
        try {
          await readStream(abort.signal, () => {
            attempt = 0;
            setConnected(true);
          }, onEvent);
        } catch (err) {
          setConnected(false);
          if (err instanceof Unauthorized) {
            setAuth('wrong');
            return;
          }
          // No live feed here (listener_processes > 1): said once, the list still comes from the store.
          if (err instanceof ApiError && err.status === 404) {
            setError(`no live feed: ${err.message}`);
            return;
          }
        }
        if (abort.signal.aborted) return;
        await new Promise((r) => setTimeout(r, RECONNECT_MS[Math.min(attempt, RECONNECT_MS.length - 1)]));
      }
    })();
    return () => {
      abort.abort();
      clearTimeout(l.timer);
      l.timer = 0;
    };
  }, [auth]);

  const togglePause = (): void => {
    const l = live.current;
    l.paused = !paused;
    if (!l.paused) {
      const held = stillMatching(l.held, l.filters);
      l.held = [];
      setRows((prev) => insert(prev, held));
      setWaiting(0);
    }
    setPaused(l.paused);
  };
  // The server remembers the clear too, so a first page read later (a filter changed, the page reloaded, another
  // tab) starts there as well; nothing is deleted from the store.
  const clear = (): void => {
    cleared.current++;
    live.current.held = [];
    live.current.incoming = [];
    setRows([]);
    setWaiting(0);
    setMissed(0);
    setSelected(undefined);
    setClearing(true);
    postJson('/api/clear', {})
      .catch((err: unknown) => {
        if (err instanceof Unauthorized) setAuth('wrong');
        else setError(`clear: ${err instanceof Error ? err.message : String(err)}`);
      })
      .finally(() => setClearing(false));
  };
  const exportHar = (params: URLSearchParams): void => {
    download(`/api/har?${params}`, `kflog-${new Date().toISOString().replace(/[:.]/g, '-')}.har`).catch((err: unknown) => setError(err instanceof Error ? err.message : String(err)));
  };
  const openTrace = (trace: string): void => {
    setSelected(trace);
    setOpen(trace);
  };

  // j/k move, Enter opens, / goes to the text filter, Escape closes the pane; not while typing in a field. Keys
  // read the rows and selection of the last render through a ref: two presses may come before the next render.
  const view = useRef({ rows, selected });
  // Set while rendering, not in an effect: Preact runs effects after paint, which may be after the next key.
  view.current.rows = rows;
  view.current.selected = selected;
  useEffect(() => {
    const onKey = (e: KeyboardEvent): void => {
      const target = e.target as HTMLElement | null;
      const typing = target !== null && (target.tagName === 'INPUT' || target.tagName === 'TEXTAREA' || target.tagName === 'SELECT');
      if (e.key === 'Escape') {
        if (typing) target!.blur();
        else setOpen(undefined);
        return;
      }
      if (typing || e.ctrlKey || e.metaKey || e.altKey) return;
      const v = view.current;
      if (e.key === '/') {
        e.preventDefault();
        textRef.current?.focus();
      } else if (e.key === 'j' || e.key === 'k') {
        e.preventDefault();
        const at = v.rows.findIndex((r) => r.trace_id === v.selected);
        const next = e.key === 'j' ? (at < 0 ? 0 : Math.min(at + 1, v.rows.length - 1)) : Math.max(at - 1, 0);
        const row = v.rows[next];
        if (row !== undefined) {
          v.selected = row.trace_id;
          setSelected(row.trace_id);
          document.querySelector(`tr[data-trace="${CSS.escape(row.trace_id)}"]`)?.scrollIntoView({ block: 'nearest' });
        }
      } else if (e.key === 'Enter' && v.selected !== undefined) {
        e.preventDefault();
        setOpen(v.selected);
      }
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, []);

  if (auth === 'needed' || auth === 'wrong') {
    return <TokenForm wrong={auth === 'wrong'} onToken={(t) => {
      saveToken(t);
      void checkAuth();
    }} />;
  }
  if (auth === 'checking') return <p class="muted center">{error ?? 'connecting…'}</p>;
  return (
    <div class={`app${open !== undefined ? ' with-detail' : ''}`}>
      <header class="top">
        <h1>kflog</h1>
        <span class={`conn ${connected ? 'on' : 'off'}`} role="status" data-connected={connected}>{connected ? 'live' : 'reconnecting…'}</span>
        <button type="button" name="pause" aria-pressed={paused} onClick={togglePause}>{paused ? 'Resume' : 'Pause'}</button>
        {paused && <span class="waiting" data-waiting={waiting}>{waiting} new while paused</span>}
        <button type="button" name="clear" onClick={clear}>Clear</button>
        <button type="button" name="export-filter" onClick={() => exportHar(filterParams(applied))}>Export HAR</button>
        <span class="count">{rows.length} shown{rows.length >= MAX_ROWS ? ` (the newest ${MAX_ROWS})` : ''}</span>
        <span class="keys muted">j/k move · Enter open · / search · Esc close</span>
        {sessionStorageHasToken() && <button type="button" class="link" onClick={() => {
          forgetToken();
          setAuth('needed');
        }}>forget token</button>}
      </header>
      <FilterBar filters={filters} forwards={forwards} onChange={setFilters} textRef={textRef} />
      {missed > 0 && (
        <p class="banner" role="alert" data-missed={missed}>
          This page read the stream too slowly and kflog dropped {missed} exchange{missed === 1 ? '' : 's'} for it.{' '}
          <button type="button" class="link" onClick={() => {
            setMissed(0);
            setApplied({ ...applied });
          }}>Reload the list from the store</button>
        </p>
      )}
      {error !== undefined && <p class="banner error-text" role="alert">{error}</p>}
      <main class="panes">
        <div class="list" data-settled={!loading && filters === applied} data-clearing={clearing}>
          <table class="exchanges">
            <thead>
              <tr><th>time</th><th>forward</th><th>method</th><th>path</th><th>status</th><th class="num">duration</th><th class="num">size</th></tr>
            </thead>
            <tbody>
              {rows.map((r) => <ListRow key={r.trace_id} row={r} selected={r.trace_id === selected} onClick={() => openTrace(r.trace_id)} onOpen={openTrace} />)}
            </tbody>
          </table>
          {rows.length === 0 && <p class="muted center">No exchanges yet{paused ? ' (paused)' : ''}: send a request through a forward.</p>}
        </div>
        {open !== undefined && (
          // Keyed by the trace: a pane opened for another exchange starts empty ("loading…") in the click's own
          // render. A reused pane kept showing the last exchange, its replay form taking input, until its effect
          // ran a frame or more later; a replay typed in that moment lost its headers.
          <Detail key={open} trace={open} onOpen={openTrace} onClose={() => setOpen(undefined)} onExport={(t) => exportHar(new URLSearchParams({ trace: t }))} />
        )}
      </main>
    </div>
  );
}

function sessionStorageHasToken(): boolean {
  return sessionStorage.getItem('kflog.admin.token') !== null;
}

render(<App />, document.getElementById('app')!);
