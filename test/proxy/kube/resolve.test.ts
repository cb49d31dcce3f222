import { describe, expect, it } from 'vitest';
import {
  choosePod,
  containerPortByName,
  containerPortForService,
  findServicePort,
  isPodReady,
  podState,
  type Pod,
  type Service,
  type ServicePort,
} from '../../../src/proxy/kube/resolve.js';

function pod(name: string, opts: { ready?: boolean; phase?: string; since?: string; deleting?: boolean; ports?: Array<{ name?: string; containerPort: number }> } = {}): Pod {
  return {
    metadata: { name, ...(opts.deleting ? { deletionTimestamp: '2026-01-01T00:00:00Z' } : {}) },
    spec: { containers: [{ name: 'app', ports: opts.ports ?? [] }] },
    status: {
      phase: opts.phase ?? 'Running',
      conditions: [{ type: 'Ready', status: opts.ready === false ? 'False' : 'True', lastTransitionTime: opts.since ?? '2026-01-01T00:00:00Z' }],
    },
  };
}

const svc = (ports: ServicePort[], clusterIP?: string): Service => ({
  metadata: { name: 'api' },
  spec: { selector: { app: 'api' }, ports, ...(clusterIP === undefined ? {} : { clusterIP }) },
});

describe('kubectl port resolution', () => {
  it('uses a numeric targetPort as the container port', () => {
    const s = svc([{ port: 80, targetPort: 8080 }]);
    expect(containerPortForService(s, findServicePort(s, 'default', 80), pod('p'))).toBe(8080);
  });

  it('falls back to the service port when targetPort is absent', () => {
    const s = svc([{ port: 9000 }]);
    expect(containerPortForService(s, findServicePort(s, 'default', 9000), pod('p'))).toBe(9000);
  });

  it('looks a named targetPort up among the pod container ports', () => {
    const s = svc([{ name: 'http', port: 80, targetPort: 'web' }]);
    const p = pod('p', { ports: [{ name: 'web', containerPort: 3000 }] });
    expect(containerPortForService(s, findServicePort(s, 'default', 'http'), p)).toBe(3000);
  });

  it('finds named ports of restartable init containers (sidecars) too', () => {
    const p = pod('p');
    p.spec!.initContainers = [{ name: 'proxy', restartPolicy: 'Always', ports: [{ name: 'envoy', containerPort: 15001 }] }];
    expect(containerPortByName(p, 'envoy')).toBe(15001);
  });

  it('forwards a headless service to the service port itself, as kubectl does', () => {
    const s = svc([{ port: 5432, targetPort: 'pg' }], 'None');
    expect(containerPortForService(s, findServicePort(s, 'default', 5432), pod('p'))).toBe(5432);
  });

  it('names the ports a service has when the asked one is missing', () => {
    const s = svc([{ name: 'http', port: 80 }, { port: 443 }]);
    expect(() => findServicePort(s, 'prod', 8080)).toThrow('service prod/api has no port 8080 (ports: http=80, 443)');
    expect(() => findServicePort(s, 'prod', 'grpc')).toThrow('has no port named "grpc"');
  });

  it('reports a named container port the pod does not declare', () => {
    expect(() => containerPortByName(pod('api-1'), 'web')).toThrow('pod api-1 has no container port named "web"');
  });
});

describe('pod choice', () => {
  it('counts only Running, Ready pods that are not being deleted as ready', () => {
    expect(isPodReady(pod('a'))).toBe(true);
    expect(isPodReady(pod('a', { ready: false }))).toBe(false);
    expect(isPodReady(pod('a', { phase: 'Pending' }))).toBe(false);
    expect(isPodReady(pod('a', { deleting: true }))).toBe(false);
    expect(podState(pod('a', { deleting: true }))).toBe('Terminating');
    expect(podState(pod('a', { ready: false }))).toBe('Running, not Ready');
  });

  it('keeps the current pod while it qualifies, else takes the one Ready the longest', () => {
    const pods = [pod('b', { since: '2026-01-02T00:00:00Z' }), pod('a', { since: '2026-01-03T00:00:00Z' }), pod('c', { since: '2026-01-01T00:00:00Z' })];
    expect(choosePod(pods, 'a')?.metadata.name).toBe('a');
    expect(choosePod(pods, 'gone')?.metadata.name).toBe('c');
    expect(choosePod([], undefined)).toBeUndefined();
  });
});
