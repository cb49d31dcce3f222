import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { accessEntry, processEntry, requestEntry, requestInfo } from '../helpers/entries.js';
import { enc, encoder } from './fixtures.js';

describe('console', () => {
  let savedTz: string | undefined;
  beforeEach(() => {
    savedTz = process.env.TZ;
    process.env.TZ = 'UTC';
  });
  afterEach(() => {
    if (savedTz === undefined) delete process.env.TZ;
    else process.env.TZ = savedTz;
  });

  it('writes one human line per exchange and nothing for request entries', () => {
    const e = encoder({ format: 'console' });
    expect(enc(e, requestEntry())).toBeNull();
    expect(enc(e, accessEntry())).toBe('2026-11-21 08:46:39.123 INFO  users GET /api/users → 200 34B 1.40ms trace=0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b\n');
  });

  it('writes process entries with their fields', () => {
    expect(enc(encoder({ format: 'console' }), processEntry())).toBe('2026-11-21 08:46:39.123 INFO  kflog listening forward=users address=127.0.0.1:8080\n');
  });

  it('uses no colour off a terminal and colours on one', () => {
    expect(enc(encoder({ format: 'console' }, { isTTY: false }), accessEntry())).not.toContain('\x1b[');
    const tty = enc(encoder({ format: 'console' }, { isTTY: true }), accessEntry({ status: 503, level: 'error' }))!;
    expect(tty).toContain('\x1b[31mERROR\x1b[0m');
    expect(tty).toContain('\x1b[31m503\x1b[0m');
    expect(enc(encoder({ format: 'console', color: 'never' }, { isTTY: true }), accessEntry())).not.toContain('\x1b[');
    expect(enc(encoder({ format: 'console', color: 'always' }), accessEntry())).toContain('\x1b[');
  });

  it('shows the termination state and error of a failed exchange', () => {
    const out = enc(encoder({ format: 'console' }), accessEntry({ status: 0, termination_state: 'CD--', error: 'client closed' }))!;
    expect(out).toContain(' → --- 34B ');
    expect(out).toContain(' term=CD-- error="client closed"\n');
  });

  it('never lets a request write terminal control sequences or a second line', () => {
    const request = requestInfo({ method: '', uri: '', proto: '', raw_line: '\x1b]0;pwned\x07\r\nINFO forged' });
    const out = enc(encoder({ format: 'console' }, { isTTY: true }), accessEntry({ request }))!;
    expect(out.split('\n')).toHaveLength(2);
    expect(out).not.toMatch(/\x1b\]|\x07|\r/); // eslint-disable-line no-control-regex
    expect(out).toContain('<BADREQ> "\\u001b]0;pwned\\u0007\\r\\nINFO forged"');
  });
});
