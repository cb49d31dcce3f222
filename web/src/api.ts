/**
 * The admin API as the page calls it. With `admin.token` set, every /api/ request carries
 * `Authorization: Bearer <token>`: the token is asked for once and kept in this tab's sessionStorage, never put in
 * a URL (where it would reach logs, history and Referer). EventSource cannot send a header, so the stream is read
 * with fetch() and parsed here (sse.ts).
 */

const TOKEN_KEY = 'kflog.admin.token';
/** Every request but the stream's: the admin listener answers from memory or one SQLite query. */
const REQUEST_MS = 15_000;

export class Unauthorized extends Error {}

export class ApiError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

export function savedToken(): string | undefined {
  return sessionStorage.getItem(TOKEN_KEY) ?? undefined;
}

export function saveToken(token: string): void {
  sessionStorage.setItem(TOKEN_KEY, token);
}

export function forgetToken(): void {
  sessionStorage.removeItem(TOKEN_KEY);
}

function headers(extra: Record<string, string> = {}): Record<string, string> {
  const token = savedToken();
  return token === undefined ? extra : { ...extra, Authorization: `Bearer ${token}` };
}

async function checked(res: Response): Promise<Response> {
  if (res.status === 401) throw new Unauthorized('the admin listener needs its token');
  if (!res.ok) {
    let message = `${res.status} ${res.statusText}`;
    try {
      const body = (await res.json()) as { error?: string };
      if (typeof body.error === 'string') message = body.error;
    } catch {
      // Not JSON: the status says it.
    }
    throw new ApiError(res.status, message);
  }
  return res;
}

export async function getJson<T>(path: string): Promise<T> {
  const res = await fetch(path, { headers: headers(), signal: AbortSignal.timeout(REQUEST_MS) });
  return (await (await checked(res)).json()) as T;
}

export async function getText(path: string): Promise<string> {
  const res = await fetch(path, { headers: headers(), signal: AbortSignal.timeout(REQUEST_MS) });
  return (await checked(res)).text();
}

export async function getBlob(path: string): Promise<Blob> {
  const res = await fetch(path, { headers: headers(), signal: AbortSignal.timeout(REQUEST_MS) });
  return (await checked(res)).blob();
}

export async function postJson<T>(path: string, body: unknown): Promise<T> {
  // Same origin: the browser sends Origin, which the admin listener checks on every POST.
  const res = await fetch(path, {
    method: 'POST',
    headers: headers({ 'Content-Type': 'application/json' }),
    body: JSON.stringify(body),
    // A replay waits for the upstream's answer: kflog's own deadline for it is two minutes.
    signal: AbortSignal.timeout(130_000),
  });
  return (await (await checked(res)).json()) as T;
}

/** /api/stream, read until `signal` aborts; each complete event goes to `onEvent`. Rejects when the stream ends. */
export async function readStream(signal: AbortSignal, onOpen: () => void, onEvent: (event: string, data: string) => void): Promise<void> {
  const res = await checked(await fetch('/api/stream', { headers: headers({ Accept: 'text/event-stream' }), signal, cache: 'no-store' }));
  if (res.body === null) throw new Error('the stream has no body');
  onOpen();
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { done, value } = await reader.read();
    if (done) throw new Error('the stream ended (kflog stopped?)');
    buffer += value;
    let end: number;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let event = 'message';
      const data: string[] = [];
      for (const line of block.split('\n')) {
        if (line.startsWith('event: ')) event = line.slice(7);
        else if (line.startsWith('data: ')) data.push(line.slice(6));
      }
      if (data.length > 0) onEvent(event, data.join('\n'));
    }
  }
}
