import { describe, expect, it } from 'vitest';
import type { AccessEntry, HeaderMap } from '../../src/core/entry.js';
import { accessEntry, requestEntry, requestInfo } from '../helpers/entries.js';
import { enc, encoder, parseClfDate, referenceLines, referenceText } from './fixtures.js';

/**
 * Golden tests: each reference line (real nginx, HAProxy, Caddy, kftray output in reference/) is read back into the
 * entry kflog would have for that exchange; kflog's encoder must then write the very same line.
 */

const NGINX = /^(\S+) - (\S+) \[([^\]]+)\] "(.*)" (\d+) (\d+)(?: "(.*)" "(.*)")?$/;

/** The access entry behind one nginx line (a 499 is kflog's "no response sent"). */
function entryFromNginx(line: string): AccessEntry {
  const m = NGINX.exec(line);
  if (!m) throw new Error('not an nginx line: ' + line);
  const [, ip, user, date, request, status, size, referer, ua] = m;
  const parts = /^(\S+) (\S+) (HTTP\/\d\.\d)$/.exec(request!);
  const headers: HeaderMap = {};
  if (referer !== undefined && referer !== '-') headers.Referer = [referer];
  if (ua !== undefined && ua !== '-') headers['User-Agent'] = [ua];
  return accessEntry({
    ts: parseClfDate(date!) + 345.678,
    user_id: user === '-' ? '' : user!,
    request: parts
      ? requestInfo({ remote_ip: ip!, method: parts[1]!, uri: parts[2]!, proto: parts[3]!, headers })
      : requestInfo({ remote_ip: ip!, method: '', uri: '', proto: '', headers, raw_line: request! }),
    status: status === '499' ? 0 : Number(status),
    size: Number(size),
  });
}

describe('clf golden lines', () => {
  it('writes every line of nginx.log (combined) byte for byte', () => {
    const e = encoder({ format: 'clf', variant: 'combined', time_local: false });
    const lines = referenceLines('nginx.log');
    expect(lines.length).toBeGreaterThanOrEqual(12);
    for (const line of lines) expect(enc(e, entryFromNginx(line))).toBe(line + '\n');
  });

  it('writes every line of nginx-common.log (common) byte for byte', () => {
    const e = encoder({ format: 'clf', variant: 'common', time_local: false });
    for (const line of referenceLines('nginx-common.log')) expect(enc(e, entryFromNginx(line))).toBe(line + '\n');
  });

  it('writes the malformed request line as nginx does, from the raw line', () => {
    const line = referenceLines('nginx.log').find((l) => l.includes('THIS IS NOT HTTP'))!;
    const entry = entryFromNginx(line);
    expect(entry.request.raw_line).toBe('THIS IS NOT HTTP');
    expect(enc(encoder({ format: 'clf', time_local: false }), entry)).toBe(line + '\n');
  });
});

const HAPROXY =
  /^(?:(\w{3} \d{2} \d{2}:\d{2}:\d{2}) (\S+) (\w+)\[(\d+)\]: )?(\S+):(\d+) \[([^\]]+)\] (\S+) (\S+)\/(\S+) (-?\d+)\/(-?\d+)\/(-?\d+)\/(-?\d+)\/(\d+) (-?\d+) (\d+) - - (\S{4}) (\d+)\/(\d+)\/(\d+)\/(\d+)\/(\d+) 0\/0 (?:\{([^}]*)\} )?(?:\{([^}]*)\} )?"(.*)"$/;

interface ParsedHaproxy {
  entry: AccessEntry;
  reqCaptures: string[] | undefined;
  respCaptures: string[] | undefined;
}

/** The access entry behind one HAProxy httplog line; captured header values become the entry's headers. */
function entryFromHaproxy(line: string, reqNames: string[], respNames: string[]): ParsedHaproxy {
  const m = HAPROXY.exec(line);
  if (!m) throw new Error('not an httplog line: ' + line);
  const [, , , , , ip, port, date, fe, be, srv, tq, tw, tc, tr, tt, status, bytes, term, ac, fc, bc, sc, rc, cap1, cap2, request] = m;
  const bad = request === '<BADREQ>';
  // One capture block is the request's when request captures are configured, else the response's.
  const reqCaptures = reqNames.length > 0 && cap1 !== undefined ? cap1.split('|') : undefined;
  const respRaw = reqNames.length > 0 ? cap2 : cap1;
  const respCaptures = respNames.length > 0 && respRaw !== undefined ? (respRaw === '' ? [] : respRaw.split('|')) : undefined;
  const headers: HeaderMap = {};
  reqCaptures?.forEach((v, i) => v !== '' && (headers[reqNames[i]!] = [v]));
  const respHeaders: HeaderMap = {};
  respCaptures?.forEach((v, i) => v !== '' && (respHeaders[respNames[i]!] = [v]));
  const parts = /^(\S+) (\S+) (HTTP\/\d\.\d)$/.exec(request!);
  const entry = accessEntry({
    forward: { id: fe!, listen_port: 18081, backend: bad ? 'be_app' : be! },
    start: parseClfDate(date!) + 0.25,
    request: bad
      ? requestInfo({ remote_ip: ip!, remote_port: port!, method: '', uri: '', proto: '', headers: {}, raw_line: 'THIS IS NOT HTTP' })
      : requestInfo({ remote_ip: ip!, remote_port: port!, method: parts![1]!, uri: parts![2]!, proto: parts![3]!, headers }),
    upstream: srv === '<NOSRV>' ? { address: '' } : { address: '127.0.0.1:18080', pod: srv! },
    timings: { tq: Number(tq), tw: Number(tw), tc: Number(tc), tr: Number(tr), tt: Number(tt) },
    status: status === '-1' ? 0 : Number(status),
    bytes_sent: Number(bytes),
    termination_state: term!,
    conn: { actconn: Number(ac), feconn: Number(fc), beconn: Number(bc), srv_conn: Number(sc), retries: Number(rc) },
    resp_headers: respHeaders,
  });
  return { entry, reqCaptures, respCaptures };
}

describe('haproxy golden lines', () => {
  const REQ = ['Host', 'User-Agent'];
  const RESP = ['Content-Type'];
  const cases: Array<[string, string[], string[]]> = [
    ['fe_plain ', [], []],
    ['fe_capture ', REQ, []],
    ['fe_capture_both ', REQ, RESP],
    ['fe_abortonclose ', [], []],
  ];

  for (const [frontend, reqNames, respNames] of cases) {
    it(`writes every ${frontend.trim()} line of haproxy.log byte for byte`, () => {
      const options: Record<string, unknown> = { format: 'haproxy', time_local: false };
      if (reqNames.length) options.capture_request_headers = reqNames.map((name) => ({ name, len: 64 }));
      if (respNames.length) options.capture_response_headers = respNames.map((name) => ({ name, len: 64 }));
      const e = encoder(options as { format: string });
      const lines = [...referenceLines('haproxy.log'), ...referenceLines('haproxy-syslog.log').map((l) => l.replace(/^.*?\]: /, ''))]
        .filter((l) => l.includes('] ' + frontend));
      expect(lines.length).toBeGreaterThan(5);
      for (const line of lines) expect(enc(e, entryFromHaproxy(line, reqNames, respNames).entry)).toBe(line + '\n');
    });
  }

  it('writes the syslog prefix of haproxy-syslog.log, with kflog as the program', () => {
    const e = encoder({ format: 'haproxy', time_local: false, syslog_header: true, hostname: 'localhost' });
    const lines = referenceLines('haproxy-syslog.log').filter((l) => l.includes('] fe_plain '));
    for (const line of lines) {
      const m = /^(\w{3} \d{2} \d{2}:\d{2}:\d{2}) localhost haproxy\[\d+\]: (.*)$/.exec(line)!;
      const { entry } = entryFromHaproxy(m[2]!, [], []);
      // The syslog time is when the line was logged (the end of the exchange).
      entry.ts = Date.parse(`2026 ${m[1]} UTC`) + 500;
      expect(enc(e, entry)).toBe(`${m[1]} localhost kflog[${process.pid}]: ${m[2]}\n`);
    }
  });

  it('logs an unparsable request as HAProxy does: frontend/<NOSRV>, no captures, "<BADREQ>"', () => {
    const e = encoder({ format: 'haproxy', time_local: false, capture_request_headers: [{ name: 'Host' }], capture_response_headers: [{ name: 'Content-Type' }] });
    const line = referenceLines('haproxy.log').find((l) => l.includes('fe_capture_both/<NOSRV>'))!;
    const { entry } = entryFromHaproxy(line, ['Host'], ['Content-Type']);
    expect(entry.forward.backend).toBe('be_app'); // the target exists, but HAProxy never reached the backend
    expect(enc(e, entry)).toBe(line + '\n');
    expect(line).toContain(' fe_capture_both fe_capture_both/<NOSRV> -1/-1/-1/-1/0 400 0 - - PR-- ');
  });
});

describe('json golden lines', () => {
  const lines = referenceLines('caddy.log');

  function entryFromCaddy(line: string): AccessEntry {
    const c = JSON.parse(line) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    const headers = { ...c.request.headers } as HeaderMap;
    if (headers.Authorization) headers.Authorization = ['Basic YWxhZGRpbjpvcGVuc2VzYW1l'];
    return accessEntry({
      ts: c.ts * 1000,
      level: c.level,
      logger: c.logger,
      request: requestInfo({ ...c.request, headers }),
      user_id: c.user_id,
      duration: c.duration,
      size: c.size,
      status: c.status,
      resp_headers: c.resp_headers,
    });
  }

  it("writes each Caddy field with Caddy's value and in Caddy's order", () => {
    const e = encoder({ format: 'json' });
    expect(lines.length).toBeGreaterThanOrEqual(11);
    for (const line of lines) {
      const caddy = JSON.parse(line) as Record<string, unknown>;
      const ours = JSON.parse(enc(e, entryFromCaddy(line))!) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
      const ourKeys = Object.keys(ours);
      // Caddy's keys come first, in Caddy's order; bytes_read (Caddy ≥ 2.7) after request.
      expect(ourKeys.filter((k) => k in caddy)).toEqual(Object.keys(caddy));
      expect(ourKeys.slice(0, 10)).toEqual(['level', 'ts', 'logger', 'msg', 'request', 'bytes_read', 'user_id', 'duration', 'size', 'status']);
      for (const [k, v] of Object.entries(caddy)) {
        if (k === 'ts') expect(ours.ts).toBeCloseTo(v as number, 6);
        else if (k === 'request') {
          const req = v as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
          expect(Object.keys(ours.request)).toEqual(Object.keys(req));
          for (const [rk, rv] of Object.entries(req)) {
            if (rk !== 'headers') expect(ours.request[rk]).toEqual(rv);
          }
          for (const [hk, hv] of Object.entries(req.headers as HeaderMap)) {
            // Caddy 2.6 writes a redacted Authorization as []; newer Caddy (and kflog) as ["REDACTED"].
            expect(ours.request.headers[hk]).toEqual(hk === 'Authorization' ? ['REDACTED'] : hv);
          }
        } else expect(ours[k]).toEqual(v);
      }
    }
  });
});

describe('kftray golden block', () => {
  const reference = referenceText('kftray-classic.txt');
  const [requestPart, responsePart] = reference.split(/(?=^-{40}$)/m) as [string, string];

  it('writes the request block of kftray-classic.txt exactly', () => {
    const e = encoder({ format: 'kftray' });
    const request = requestEntry({
      trace_id: '5525d312-5582-46ad-85d1-0fd3710f824e',
      ts: Date.UTC(2024, 5, 13, 15, 34, 9, 756) + 0.706,
      request: requestInfo({ headers: { Host: ['localhost:8080'], Connection: ['keep-alive'], Accept: ['application/json'] } }),
    });
    expect(enc(e, request)).toBe(requestPart);
  });

  it('writes the response block of kftray-classic.txt exactly up to the body, and the same JSON body', () => {
    const e = encoder({ format: 'kftray' });
    const bodyText = '{"users":[{"id":1,"name":"John"}]}';
    const access = accessEntry({
      trace_id: '5525d312-5582-46ad-85d1-0fd3710f824e',
      ts: Date.UTC(2024, 5, 13, 15, 34, 9, 901) + 0.304,
      duration: 0.144598,
      request: requestInfo({ headers: { Host: ['localhost:8080'], Connection: ['keep-alive'], Accept: ['application/json'] } }),
      status: 200,
      resp_headers: { 'Content-Type': ['application/json'], 'Content-Length': ['42'] },
      resp_body: { bytes: bodyText.length, text: bodyText, truncated: false, content_type: 'application/json' },
    });
    const out = enc(e, access)!;
    const [head, body] = out.split('Body:\n') as [string, string];
    expect(head + 'Body:\n').toBe(responsePart.split('Body:\n')[0] + 'Body:\n');
    expect(JSON.parse(body)).toEqual(JSON.parse(responsePart.split('Body:\n')[1]!));
    // pretty-printed with 2 spaces, and the block ends with a blank line as the request block does
    expect(body).toMatch(/^\{\n {2}"users": \[\n {4}\{/);
    expect(out.endsWith('}\n\n')).toBe(true);
  });
});
