import { afterEach, describe, expect, it } from 'vitest';
import { exchange } from '../helpers/http.js';
import { startRawUpstream, type RawUpstream } from '../helpers/upstream.js';
import { startProxy, type Harness } from './helpers.js';

/**
 * Request bodies a parser must refuse (issue 16 item 2): a broken chunked body or a transfer coding kflog cannot
 * forward is a malformed request — answered 400 or 501 as nginx does, logged once as `CR--` with the reason,
 * and never a client abort. Raw sockets on both sides, so nothing is tidied up by a client library.
 */

interface RecordingUpstream extends RawUpstream {
  /** Every byte any connection sent the upstream. */
  received(): string;
}

/** An upstream that answers nothing and records every byte it receives. */
async function recordingUpstream(): Promise<RecordingUpstream> {
  let bytes = '';
  const upstream = await startRawUpstream((socket) => socket.on('data', (d: Buffer) => (bytes += d.toString('latin1'))));
  return { ...upstream, received: () => bytes };
}

let proxy: Harness | undefined;
let upstream: RecordingUpstream | undefined;
afterEach(async () => {
  await proxy?.stop();
  await upstream?.close();
  proxy = undefined;
  upstream = undefined;
});

async function start(): Promise<Harness> {
  upstream = await recordingUpstream();
  proxy = await startProxy({ target: { url: `http://127.0.0.1:${upstream.port}` } });
  return proxy;
}

const HEAD = 'POST /orders HTTP/1.1\r\nHost: x\r\n';

describe('malformed request bodies', () => {
  it.each([
    ['a chunk size that overflows', `${HEAD}Transfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFFFFFFF1\r\nab\r\n0\r\n\r\n`, 400],
    ['chunk data without its CRLF', `${HEAD}Transfer-Encoding: chunked\r\n\r\n2\r\nabXY3\r\nabc\r\n0\r\n\r\n`, 400],
    ['an unknown transfer coding', `${HEAD}Transfer-Encoding: xchunked\r\n\r\n2\r\nab\r\n0\r\n\r\n`, 501],
    ['gzip before chunked', `${HEAD}Transfer-Encoding: gzip, chunked\r\n\r\n2\r\nab\r\n0\r\n\r\n`, 501],
  ])('%s is answered with its status and logged once as CR-- with the reason', async (_name, request, status) => {
    const p = await start();
    const response = await exchange(`127.0.0.1:${p.port}`, request);
    expect(response.split('\r\n')[0]).toBe(`HTTP/1.1 ${status} ${status === 400 ? 'Bad Request' : 'Not Implemented'}`);
    const [entry] = await p.waitAccess(1);
    expect(p.access()).toHaveLength(1);
    expect(entry!.status).toBe(status);
    expect(entry!.termination_state).toBe('CR--');
    expect(entry!.error).toMatch(/^malformed request: /);
    expect(entry!.request.method).toBe('POST');
    expect(upstream!.received()).toBe('');
  });
});
