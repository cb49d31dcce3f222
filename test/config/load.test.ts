import { describe, expect, it } from 'vitest';
import { EMBEDDED_DEFAULT, embeddedDefault, parseConfigText } from '../../src/config/load.js';

describe('config loading', () => {
  it('accepts the embedded default under the schema and kflog\'s own rules', () => {
    const cfg = parseConfigText(JSON.stringify(EMBEDDED_DEFAULT), 'embedded');
    expect(cfg.forwards.map((f) => `${f.id}@${f.host}:${f.port}`)).toEqual(['demo@127.0.0.1:8080']);
  });

  it('gives the embedded default a console log on stderr and a per-forward file log', () => {
    const cfg = embeddedDefault();
    const def = cfg.logs.find((l) => l.name === 'default')!;
    expect(def.writer.output).toBe('stderr');
    expect(def.encoder.format).toBe('console');
    const file = cfg.logs.find((l) => l.name === 'forward.demo')!;
    expect(file.writer).toMatchObject({ output: 'file', filename: '~/.kflog/http_logs/{forward.id}_{listen.port}.log' });
    expect(file.include).toEqual(['http.log.request.demo', 'http.log.access.demo']);
  });

  it('gives the embedded default an exchange store at the path kflog ls reads by default', () => {
    const cfg = embeddedDefault();
    const store = cfg.logs.find((l) => l.writer.output === 'store')!;
    expect(store.writer).toMatchObject({ output: 'store' });
    expect(store.include).toEqual(['http.log']);
    expect(cfg.logs.map((l) => l.name).sort()).toEqual(['default', 'forward.demo', 'store']);
  });

  it('expands the per-forward log shorthand into an ordinary log named forward.<id>', () => {
    const cfg = parseConfigText(
      JSON.stringify({ forwards: [{ id: 'x', listen: '127.0.0.1:0', target: { builtin: 'echo' }, log: { format: 'json', filename: '/tmp/x.log' } }] }),
      't',
    );
    const log = cfg.logs.find((l) => l.name === 'forward.x')!;
    expect(log.encoder).toEqual({ format: 'json' });
    expect(log.writer).toEqual({ output: 'file', filename: '/tmp/x.log' });
  });

  it('turns a forward\'s http.log entries off with "log": false', () => {
    const cfg = parseConfigText(JSON.stringify({ forwards: [{ id: 'x', listen: '127.0.0.1:0', target: { builtin: 'echo' }, log: false }] }), 't');
    expect(cfg.forwards[0]!.logEnabled).toBe(false);
  });

  it('applies defaults: 10s shutdown, v7 trace IDs, 64 KiB bodies, 16 MiB queues', () => {
    const cfg = parseConfigText(JSON.stringify({ forwards: [{ id: 'x', listen: '127.0.0.1:0', target: { builtin: 'echo' } }] }), 't');
    expect(cfg.shutdownTimeoutMs).toBe(10_000);
    expect(cfg.traceId).toBe('v7');
    expect(cfg.forwards[0]!.capture.maxBodyBytes).toBe(65536);
    expect(cfg.logs[0]!.queueBytes).toBe(16 * 1024 * 1024);
  });

  it('parses Go-style durations in every duration field', () => {
    const cfg = parseConfigText(
      JSON.stringify({ forwards: [{ id: 'x', listen: '127.0.0.1:0', target: { builtin: 'echo' }, timeouts: { connect: '1m30s', headers: '250ms' } }], shutdown_timeout: '1.5s' }),
      't',
    );
    expect(cfg.forwards[0]!.timeouts.connectMs).toBe(90_000);
    expect(cfg.forwards[0]!.timeouts.headersMs).toBe(250);
    expect(cfg.shutdownTimeoutMs).toBe(1500);
  });

  it('accepts two forwards on one port at different loopback addresses, as the OS binds both', () => {
    const fwd = (id: string, listen: string) => ({ id, listen, target: { builtin: 'echo' } });
    const cfg = parseConfigText(JSON.stringify({ forwards: [fwd('a', '127.0.0.2:18090'), fwd('b', '127.0.0.3:18090')] }), 't');
    expect(cfg.forwards.map((f) => f.host)).toEqual(['127.0.0.2', '127.0.0.3']);
  });
});
