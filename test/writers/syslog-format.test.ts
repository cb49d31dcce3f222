import { describe, expect, it } from 'vitest';
import { frame } from '../../src/writers/net-message.js';
import { parseNetAddress } from '../../src/writers/net-address.js';
import { SyslogFormat } from '../../src/writers/syslog-format.js';

describe('syslog header', () => {
  const ts = Date.UTC(2026, 10, 21, 8, 46, 39, 123);

  it('writes RFC 5424: PRI from facility and level, version 1, UTC time with milliseconds, host, app, pid, no MSGID or SD', () => {
    const f = new SyslogFormat({ protocol: 'rfc5424', facility: 'local0', appName: 'kflog', hostname: 'box', pid: 4242 });
    expect(f.message('hello', 'info', ts)).toBe('<134>1 2026-11-21T08:46:39.123Z box kflog 4242 - - hello');
    expect(f.message('x', 'error', ts).startsWith('<131>1 ')).toBe(true); // 16*8+3
    expect(f.message('x', 'warn', ts).startsWith('<132>1 ')).toBe(true);
    expect(f.message('x', 'debug', ts).startsWith('<135>1 ')).toBe(true);
  });

  it('writes RFC 3164 in local time with a space-padded day and TAG[pid]:', () => {
    const f = new SyslogFormat({ protocol: 'rfc3164', facility: 'daemon', appName: 'kflog', hostname: 'box', pid: 7 });
    const local = new Date(2026, 10, 1, 9, 5, 3).getTime();
    expect(f.message('hello', 'info', local)).toBe('<30>Nov  1 09:05:03 box kflog[7]: hello');
    const later = new Date(2026, 10, 21, 23, 59, 59).getTime();
    expect(f.message('bye', 'error', later)).toBe('<27>Nov 21 23:59:59 box kflog[7]: bye');
  });

  it('keeps header fields to printable ASCII without spaces', () => {
    const f = new SyslogFormat({ protocol: 'rfc5424', facility: 'user', appName: 'my app', hostname: 'host name\n', pid: 1 });
    expect(f.message('m', 'info', ts)).toBe('<14>1 2026-11-21T08:46:39.123Z hostname myapp 1 - - m');
  });

  it('refuses an unknown facility, naming the known ones', () => {
    expect(() => new SyslogFormat({ protocol: 'rfc5424', facility: 'local9', appName: 'kflog' })).toThrow(/local9.*local7/);
  });
});

describe('stream framing (RFC 6587)', () => {
  it('octet counting prefixes the length in bytes, not characters', () => {
    expect(frame('héllo', 'octet-counting', true)).toBe('6 héllo');
  });

  it('newline framing ends each message with LF and escapes inner newlines when asked, as rsyslog shows them', () => {
    expect(frame('a\nb', 'newline', true)).toBe('a#012b\n');
    expect(frame('a\nb', 'newline', false)).toBe('a\nb\n');
  });
});

describe('net address', () => {
  it('parses tcp, udp with IPv6 brackets, and unix paths', () => {
    expect(parseNetAddress('tcp/localhost:514')).toMatchObject({ transport: 'tcp', host: 'localhost', port: 514 });
    expect(parseNetAddress('udp/[::1]:5514')).toMatchObject({ transport: 'udp', host: '::1', port: 5514 });
    expect(parseNetAddress('unix//run/collector.sock')).toMatchObject({ transport: 'unix', path: '/run/collector.sock' });
  });

  it('rejects what is not an address, saying what is expected', () => {
    expect(() => parseNetAddress('localhost:514')).toThrow(/tcp\/, udp\/ or unix\/\//);
    expect(() => parseNetAddress('tcp/localhost')).toThrow(/port/);
    expect(() => parseNetAddress('tcp/host:70000')).toThrow(/port/);
  });
});
