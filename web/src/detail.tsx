import { useEffect, useState } from 'preact/hooks';
import { ApiError, getJson, getText, postJson } from './api.js';
import { BodyView } from './body-view.js';
import { duration } from './format.js';
import type { ApiHeaderMap as HeaderMap, ExchangeJson as Exchange, ReplayAnswer } from '../../src/admin/api-types.js';
import { terminationWords } from './termination.js';
import { Waterfall } from './waterfall.js';

function Headers(props: { headers: HeaderMap | null; label: string }) {
  const entries = Object.entries(props.headers ?? {});
  if (entries.length === 0) return <p class="muted">none</p>;
  return (
    <table class="headers" data-headers={props.label}>
      <tbody>
        {entries.flatMap(([name, values]) => values.map((v) => (
          <tr>
            <th scope="row">{name}</th>
            <td>{v}</td>
          </tr>
        )))}
      </tbody>
    </table>
  );
}

function Facts(props: { x: Exchange; onOpen: (trace: string) => void }) {
  const { x } = props;
  const state = x.termination_state ?? '';
  return (
    <dl class="facts">
      <dt>trace</dt><dd class="mono">{x.trace_id}</dd>
      <dt>time</dt><dd>{x.time}</dd>
      <dt>forward</dt><dd>{x.forward ?? '–'}</dd>
      <dt>client</dt><dd>{x.remote_ip ?? ''}{x.remote_port ? `:${x.remote_port}` : ''} {x.proto ?? ''}</dd>
      <dt>upstream</dt><dd>{x.upstream || '–'}</dd>
      {x.pod !== null && <><dt>pod</dt><dd data-pod>{x.pod}</dd></>}
      <dt>termination</dt><dd><span class="mono">{state || '–'}</span> {state !== '' && `— ${terminationWords(state)}`}</dd>
      {x.error !== null && <><dt>error</dt><dd class="error-text">{x.error}</dd></>}
      <dt>bytes</dt><dd>{x.bytes_read ?? 0} in, {x.size ?? 0} out (body){x.bytes_sent !== null ? `, ${x.bytes_sent} sent` : ''}</dd>
      {x.replay_of !== null && (
        <><dt>replay of</dt><dd><button type="button" class="link" onClick={() => props.onOpen(x.replay_of!)}>{x.replay_of}</button></dd></>
      )}
    </dl>
  );
}

/** Replay, optionally with headers and the body edited; the replay itself then arrives in the list, linked. */
function ReplayForm(props: { x: Exchange }) {
  const { x } = props;
  const textBody = x.req_body !== null && x.req_body_encoding !== 'base64' ? x.req_body : '';
  const [headers, setHeaders] = useState('');
  const [body, setBody] = useState(textBody);
  const [editBody, setEditBody] = useState(false);
  const [force, setForce] = useState(false);
  const [busy, setBusy] = useState(false);
  const [answer, setAnswer] = useState<ReplayAnswer | undefined>();
  const [error, setError] = useState<string | undefined>();
  useEffect(() => {
    setBody(textBody);
    setAnswer(undefined);
    setError(undefined);
  }, [x.trace_id]);
  const send = async (): Promise<void> => {
    setBusy(true);
    setError(undefined);
    setAnswer(undefined);
    try {
      const lines = headers.split('\n').map((l) => l.trim()).filter((l) => l !== '');
      setAnswer(await postJson<ReplayAnswer>(`/api/exchanges/${encodeURIComponent(x.trace_id)}/replay`, {
        headers: lines,
        ...(editBody ? { body } : {}),
        force,
      }));
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <section class="replay">
      <h3>Replay</h3>
      <label>
        Headers to set (<span class="mono">Name: value</span>, one a line; <span class="mono">Name:</span> leaves one out)
        <textarea name="replay-headers" rows={2} value={headers} onInput={(e) => setHeaders((e.target as HTMLTextAreaElement).value)} />
      </label>
      <label class="inline">
        <input type="checkbox" name="replay-edit-body" checked={editBody} onChange={(e) => setEditBody((e.target as HTMLInputElement).checked)} /> send this body instead
      </label>
      {editBody && <textarea name="replay-body" rows={4} value={body} onInput={(e) => setBody((e.target as HTMLTextAreaElement).value)} />}
      <label class="inline">
        <input type="checkbox" checked={force} onChange={(e) => setForce((e.target as HTMLInputElement).checked)} /> send even if the captured body is incomplete
      </label>
      <button type="button" name="replay-send" disabled={busy} onClick={() => void send()}>{busy ? 'Replaying…' : 'Replay'}</button>
      {error !== undefined && <p class="error-text" role="alert">{error}</p>}
      {answer !== undefined && (
        <div class="replay-answer" role="status">
          <p>{answer.method} {answer.url} ({answer.via}): <strong>{answer.status}</strong> in {answer.took_ms} ms</p>
          {answer.warnings.map((w) => <p class="note">{w}</p>)}
          {answer.differences === null ? <p class="muted">no captured response to compare with</p>
            : answer.differences.length === 0 ? <p class="muted">the same as the captured response</p>
            : <ul>{answer.differences.map((d) => <li class="mono">{d}</li>)}</ul>}
        </div>
      )}
    </section>
  );
}

/** The detail pane of one exchange, read from the store. */
export function Detail(props: { trace: string; onOpen: (trace: string) => void; onClose: () => void; onExport: (trace: string) => void }) {
  const [x, setX] = useState<Exchange | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [curl, setCurl] = useState<string | undefined>();
  const [copied, setCopied] = useState('');
  useEffect(() => {
    let live = true;
    setX(undefined);
    setError(undefined);
    setCurl(undefined);
    setCopied('');
    // The store is written in batches: an exchange just shown live may need a moment to be there.
    const load = async (tries: number): Promise<void> => {
      try {
        const got = await getJson<Exchange>(`/api/exchanges/${encodeURIComponent(props.trace)}`);
        if (live) setX(got);
      } catch (err) {
        if (err instanceof ApiError && err.status === 404 && tries > 0 && live) {
          setTimeout(() => void load(tries - 1), 250);
          return;
        }
        if (live) setError(err instanceof Error ? err.message : String(err));
      }
    };
    void load(8);
    return () => {
      live = false;
    };
  }, [props.trace]);
  const copyCurl = async (): Promise<void> => {
    try {
      const text = await getText(`/api/exchanges/${encodeURIComponent(props.trace)}/curl`);
      setCurl(text);
      try {
        await navigator.clipboard.writeText(text);
        setCopied('copied to the clipboard');
      } catch {
        setCopied('the browser refused the clipboard: select the command below');
      }
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    }
  };
  return (
    <aside class="detail" aria-label="exchange detail">
      <header class="detail-head">
        <h2 class="mono">{x ? `${x.method ?? ''} ${(x.path ?? '') + (x.query !== null ? '?' + x.query : '')}` : props.trace}</h2>
        <span class="actions">
          <button type="button" name="copy-curl" onClick={() => void copyCurl()}>Copy as curl</button>
          <button type="button" name="export-one" onClick={() => props.onExport(props.trace)}>HAR</button>
          <button type="button" aria-label="close" onClick={props.onClose}>×</button>
        </span>
      </header>
      {error !== undefined && <p class="error-text" role="alert">{error}</p>}
      {curl !== undefined && (
        <div class="curl">
          <p class="note">{copied}</p>
          <pre class="mono" data-curl>{curl}</pre>
        </div>
      )}
      {x === undefined ? (error === undefined && <p class="muted">loading…</p>) : (
        <div class="detail-body">
          <p class="status-line"><span class={`status s${Math.floor((x.status ?? 0) / 100)}xx`}>{x.status ?? 'in flight'}</span> {duration(x.duration_ms)}</p>
          <Facts x={x} onOpen={props.onOpen} />
          <h3>Timers</h3>
          <Waterfall timers={x} />
          <h3>Request headers</h3>
          <Headers headers={x.req_headers} label="request" />
          <h3>Request body</h3>
          <BodyView body={x.req_body} encoding={x.req_body_encoding} meta={x.req_body_meta} headers={x.req_headers} label="request" />
          <h3>Response headers</h3>
          <Headers headers={x.resp_headers} label="response" />
          <h3>Response body</h3>
          <BodyView body={x.resp_body} encoding={x.resp_body_encoding} meta={x.resp_body_meta} headers={x.resp_headers} label="response" />
          <ReplayForm x={x} />
        </div>
      )}
    </aside>
  );
}
