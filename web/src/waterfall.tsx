/**
 * HAProxy's timers as a waterfall: Tq (the request's headers arriving), Tw (queued), Tc (connecting), Tr (the
 * server's response headers), then the data phase, the rest of Tt (the whole exchange). -1 is a phase never reached.
 */
interface Timers {
  tq: number | null;
  tw: number | null;
  tc: number | null;
  tr: number | null;
  tt: number | null;
}

const PHASES = [
  ['Tq', 'tq', 'request headers received'],
  ['Tw', 'tw', 'waiting in a queue'],
  ['Tc', 'tc', 'connecting to the server'],
  ['Tr', 'tr', 'waiting for the response headers'],
] as const;

export function Waterfall(props: { timers: Timers }) {
  const t = props.timers;
  const total = t.tt ?? -1;
  if (total < 0) return <p class="muted">no timers (the exchange did not end normally before they were taken)</p>;
  let at = 0;
  const rows: Array<{ label: string; ms: number; start: number; what: string }> = [];
  for (const [label, key, what] of PHASES) {
    const ms = t[key] ?? -1;
    if (ms < 0) {
      rows.push({ label, ms: -1, start: at, what: `${what}: not reached` });
      continue;
    }
    rows.push({ label, ms, start: at, what });
    at += ms;
  }
  rows.push({ label: 'data', ms: Math.max(0, total - at), start: at, what: 'the response body sent' });
  const scale = total > 0 ? total : 1;
  return (
    <div class="waterfall" role="table" aria-label="HAProxy timers">
      {rows.map((r) => (
        <div class="wf-row" role="row">
          <span class="wf-label" role="cell">{r.label}</span>
          <span class="wf-track" role="cell" title={r.what}>
            {r.ms >= 0 && <span class={`wf-bar wf-${r.label}`} style={{ marginLeft: `${(r.start / scale) * 100}%`, width: `${Math.max((r.ms / scale) * 100, 0.5)}%` }} />}
          </span>
          <span class="wf-ms" role="cell">{r.ms < 0 ? '–' : `${r.ms} ms`}</span>
        </div>
      ))}
      <div class="wf-row wf-total" role="row">
        <span class="wf-label" role="cell">Tt</span>
        <span class="wf-track" role="cell">the whole exchange</span>
        <span class="wf-ms" role="cell">{total} ms</span>
      </div>
    </div>
  );
}
