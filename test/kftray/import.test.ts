import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { importKftray, sanitizeId } from '../../src/kftray/import.js';
import { validateAgainstSchema } from './schema.js';

const fixtures = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'kftray');
const load = (path: string): unknown => JSON.parse(readFileSync(join(fixtures, path), 'utf8'));

describe('import-kftray on kftray\'s own example exports', () => {
  it('turns the five service configs into five forwards with their kubeconfig, context, namespace and ports', () => {
    const { config, skipped } = importKftray(load('reference/configs.json'));

    expect(skipped).toEqual([]);
    expect(config.forwards.map((f) => f.id)).toEqual(['argocd', 'grafana', 'alertmanager', 'prometheus', 'jaeger']);
    expect(config.forwards[0]).toEqual({
      id: 'argocd',
      listen: '127.0.0.1:16080',
      target: {
        kube: {
          kubeconfig: '/Users/me/.kube/kind-config-kftray-cluster',
          context: 'kind-kftray-cluster',
          namespace: 'argocd',
          service: 'argocd-server',
          port: 8080,
        },
      },
    });
    expect(validateAgainstSchema(config)).toEqual([]);
  });

  it('maps a pod workload to a label selector and its http logs to a rotated kftray-format file', () => {
    const { config } = importKftray(load('reference/pod-tcp-with-http-logs.json'));

    expect(config.forwards).toEqual([
      {
        id: 'api-debug',
        listen: '127.0.0.1:3000',
        target: { kube: { context: 'my-k8s-cluster', namespace: 'staging', selector: 'app=backend,version=v2', port: 8080 } },
        log: {
          format: 'kftray',
          writer: { output: 'file', filename: '~/.kflog/http_logs/{forward.id}_{listen.port}.log', roll_size_mb: 20, roll_keep_days: 14 },
        },
      },
    ]);
    expect(validateAgainstSchema(config)).toEqual([]);
  });

  it.each([
    ['reference/proxy-tcp.json', 'external-db', /workload_type "proxy" relays to postgresql\.external\.example\.com/],
    ['reference/proxy-udp.json', 'dns-proxy', /workload_type "proxy".*; protocol "udp" is not HTTP/],
    ['reference/service-udp.json', 'dns-server', /^protocol "udp" is not HTTP: kflog proxies HTTP over TCP only$/],
    ['reference/expose-internal.json', 'internal-api', /workload_type "expose" publishes a local port inside the cluster/],
  ])('lists %s as skipped with the reason', (file, alias, reason) => {
    const { config, skipped } = importKftray(load(file));

    expect(config.forwards).toEqual([]);
    expect(skipped).toEqual([{ alias, reason: expect.stringMatching(reason) }]);
  });

  it('imports every reference example kflog can serve and skips the rest, none lost', () => {
    const dir = join(fixtures, 'reference');
    let entries = 0;
    let forwards = 0;
    let skips = 0;
    for (const f of readdirSync(dir)) {
      const input = JSON.parse(readFileSync(join(dir, f), 'utf8')) as unknown[];
      const { config, skipped } = importKftray(input);
      if (config.forwards.length > 0) expect(validateAgainstSchema(config)).toEqual([]);
      entries += input.length;
      forwards += config.forwards.length;
      skips += skipped.length;
    }
    expect(entries).toBe(12);
    expect(forwards).toBe(8);
    expect(skips).toBe(4);
  });
});

describe('import-kftray on a team export', () => {
  const { config, skipped, notes } = importKftray(load('team-export.json'));
  const byId = new Map(config.forwards.map((f) => [f.id, f]));

  it('imports the five servable entries and names the three it cannot serve', () => {
    expect(config.forwards.map((f) => f.id)).toEqual(['grafana', 'payments-api', 'payments-api-2', 'worker-debug', 'keycloak']);
    expect(skipped.map((s) => s.alias)).toEqual(['coredns', 'rds-orders', 'webhook-receiver']);
    expect(validateAgainstSchema(config)).toEqual([]);
  });

  it('derives unique forward ids from aliases and says so', () => {
    expect(notes).toContainEqual({ alias: 'Payments API', note: 'forward id "payments-api"' });
    expect(notes).toContainEqual({ alias: 'payments api', note: 'forward id "payments-api-2"' });
  });

  it('drops kftray\'s "default" kubeconfig and keeps a kubeconfig list as is', () => {
    expect(byId.get('grafana')?.target).toEqual({ kube: { context: 'kind-dev', namespace: 'monitoring', service: 'grafana', port: 80 } });
    expect(byId.get('payments-api-2')?.target).toMatchObject({
      kube: { kubeconfig: '/home/dev/.kube/prod.yaml:/home/dev/.kube/sso.yaml' },
    });
  });

  it('converts the byte size to MB and keeps no retention when kftray\'s auto-cleanup is off', () => {
    expect(byId.get('grafana')?.log).toMatchObject({ format: 'kftray', writer: { roll_size_mb: 5, roll_keep_days: 3 } });
    expect(byId.get('payments-api')?.log).toEqual({
      format: 'kftray',
      writer: { output: 'file', filename: '~/.kflog/http_logs/{forward.id}_{listen.port}.log', roll_size_mb: 1 },
    });
    expect(byId.get('payments-api-2')?.log).toBeUndefined();
  });

  it('uses kftray\'s defaults (10 MB, 7 days) when http logs are on without sizes', () => {
    expect(byId.get('keycloak')?.log).toMatchObject({ writer: { roll_size_mb: 10, roll_keep_days: 7 } });
  });

  it('listens where kftray did: the local address, IPv6 in brackets, a free port when none is given', () => {
    expect(byId.get('worker-debug')?.listen).toBe('127.0.0.2:9229');
    expect(byId.get('keycloak')?.listen).toBe('[::1]:0');
    expect(notes).toContainEqual({ alias: 'keycloak', note: 'no local_port: listens on a free port (logged at start)' });
    expect(notes).toContainEqual({ alias: 'keycloak', note: 'domain_enabled (hosts file entry) is not supported: ignored' });
  });
});

describe('import-kftray where kftray and kflog listen differently', () => {
  const service = { context: 'kind-dev', namespace: 'dev', remote_port: 80, workload_type: 'service', protocol: 'tcp' };

  it('skips the second of two entries on one local address and port, naming the first, and keeps the config valid', () => {
    const { config, skipped } = importKftray([
      { ...service, alias: 'web', service: 'web', local_port: 8080 },
      { ...service, alias: 'web-canary', service: 'web-canary', local_port: 8080 },
      { ...service, alias: 'web-other-ip', service: 'web', local_port: 8080, local_address: '127.0.0.3' },
    ]);

    expect(config.forwards.map((f) => f.listen)).toEqual(['127.0.0.1:8080', '127.0.0.3:8080']);
    expect(skipped).toEqual([{ alias: 'web-canary', reason: expect.stringMatching(/^listens on 127\.0\.0\.1:8080 like "web": kftray starts only one/) }]);
    expect(validateAgainstSchema(config)).toEqual([]);
  });

  it('gives each auto_loopback_address entry its own 127.0.0.x, as kftray allocates them, avoiding addresses the export names', () => {
    const { config, notes } = importKftray([
      { ...service, alias: 'a', service: 'a', local_port: 8080, auto_loopback_address: true },
      { ...service, alias: 'b', service: 'b', local_port: 8080, local_address: '127.0.0.3' },
      { ...service, alias: 'c', service: 'c', local_port: 8080, auto_loopback_address: true },
      { ...service, alias: 'd', service: 'd', local_port: 8080, auto_loopback_address: true, local_address: '127.0.0.9' },
    ]);

    expect(config.forwards.map((f) => f.listen)).toEqual(['127.0.0.2:8080', '127.0.0.3:8080', '127.0.0.4:8080', '127.0.0.9:8080']);
    expect(notes).toContainEqual({ alias: 'a', note: 'auto_loopback_address: kftray picks a free 127.0.0.x at start; listens on 127.0.0.2' });
    expect(notes).toContainEqual({ alias: 'b', note: expect.stringContaining('sudo ifconfig lo0 alias 127.0.0.3 up') });
    expect(validateAgainstSchema(config)).toEqual([]);
  });

  it('skips a local_address that is not an IP address, which kftray cannot bind either', () => {
    const { config, skipped } = importKftray([{ ...service, alias: 'named', service: 'x', local_port: 8080, local_address: 'my-laptop' }]);

    expect(config.forwards).toEqual([]);
    expect(skipped).toEqual([{ alias: 'named', reason: 'local_address "my-laptop" is not an IP address (kftray cannot bind it either)' }]);
  });

  it('listens on 127.0.0.1 for local_address "localhost" and says so', () => {
    const { config, notes } = importKftray([{ ...service, alias: 'lh', service: 'x', local_port: 8080, local_address: 'localhost' }]);

    expect(config.forwards[0]?.listen).toBe('127.0.0.1:8080');
    expect(notes).toContainEqual({ alias: 'lh', note: 'local_address "localhost": listens on 127.0.0.1' });
  });

  it('keeps the id of a skipped entry free for the next one', () => {
    const { config } = importKftray([
      { ...service, alias: 'web', service: 'web', local_port: 8080 },
      { ...service, alias: 'api', service: 'api', local_port: 8080 },
      { ...service, alias: 'api', service: 'api', local_port: 8081 },
    ]);

    expect(config.forwards.map((f) => f.id)).toEqual(['web', 'api']);
  });
});

describe('forward ids from aliases', () => {
  it.each([
    ['My API (staging)', 'my-api-staging'],
    ['__grafana__', 'grafana'],
    ['Ünïcode svc', 'n-code-svc'],
    ['a'.repeat(80), 'a'.repeat(63)],
  ])('%s → %s', (alias, id) => {
    expect(sanitizeId(alias)).toBe(id);
    expect(id).toMatch(/^[a-z0-9][a-z0-9_-]*$/);
  });

  it('skips entries that are not objects instead of failing', () => {
    const { skipped } = importKftray([42, null]);
    expect(skipped).toEqual([
      { alias: '#1', reason: 'not a kftray config object' },
      { alias: '#2', reason: 'not a kftray config object' },
    ]);
  });
});
