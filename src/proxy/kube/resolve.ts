import type { KubeTargetConfig } from '../../config/types.js';
import { KubeError } from './errors.js';

/*
 * Target resolution as kubectl port-forward does it (k8s.io/kubectl/pkg/cmd/portforward and
 * pkg/util/service_port.go): service → its selector → a pod; service port → targetPort → containerPort, named ports
 * looked up in the pod's containers. Only the fields read here are typed: this is the wire JSON.
 */

export interface ContainerPort {
  name?: string;
  containerPort: number;
  protocol?: string;
}

export interface Pod {
  metadata: { name: string; namespace?: string; deletionTimestamp?: string; labels?: Record<string, string> };
  spec?: {
    containers?: Array<{ name: string; ports?: ContainerPort[] }>;
    initContainers?: Array<{ name: string; ports?: ContainerPort[]; restartPolicy?: string }>;
  };
  status?: {
    phase?: string;
    conditions?: Array<{ type: string; status: string; lastTransitionTime?: string }>;
  };
}

export interface ServicePort {
  name?: string;
  port: number;
  targetPort?: number | string;
  protocol?: string;
}

export interface Service {
  metadata: { name: string };
  spec?: { selector?: Record<string, string>; ports?: ServicePort[]; clusterIP?: string };
}

export interface EndpointSlice {
  endpoints?: Array<{
    conditions?: { ready?: boolean | null; terminating?: boolean | null };
    targetRef?: { kind?: string; name?: string };
  }>;
  ports?: Array<{ name?: string | null; port?: number | null }> | null;
}

export interface List<T> {
  items?: T[];
}

/** What the resolution needs from the API server; the upstream passes getJson bound to its kubeconfig. */
export interface KubeReader {
  service(namespace: string, name: string): Promise<Service>;
  pod(namespace: string, name: string): Promise<Pod>;
  pods(namespace: string, labelSelector: string): Promise<List<Pod>>;
  endpointSlices(namespace: string, service: string): Promise<List<EndpointSlice>>;
}

/** Where one stream goes. */
export interface ResolvedTarget {
  pod: string;
  /** Container port the stream opens. */
  port: number;
  /** Every pod that qualified (Running and Ready; for a named pod: itself). */
  candidates: string[];
}

function readyCondition(pod: Pod): { status: string; lastTransitionTime?: string } | undefined {
  return pod.status?.conditions?.find((c) => c.type === 'Ready');
}

/** Running, Ready and not being deleted: what a Service would send traffic to. */
export function isPodReady(pod: Pod): boolean {
  return (
    pod.status?.phase === 'Running' && pod.metadata.deletionTimestamp === undefined && readyCondition(pod)?.status === 'True'
  );
}

/** Short state of a pod for messages: "Pending", "Running, not Ready", "Terminating". */
export function podState(pod: Pod): string {
  if (pod.metadata.deletionTimestamp !== undefined) return 'Terminating';
  const phase = pod.status?.phase ?? 'Unknown';
  if (phase === 'Running' && readyCondition(pod)?.status !== 'True') return 'Running, not Ready';
  return phase;
}

/** kubectl's LookupContainerPortNumberByName (containers, then restartable init containers: sidecars). */
export function containerPortByName(pod: Pod, name: string): number {
  const containers = [
    ...(pod.spec?.containers ?? []),
    ...(pod.spec?.initContainers ?? []).filter((c) => c.restartPolicy === 'Always'),
  ];
  for (const c of containers) for (const p of c.ports ?? []) if (p.name === name) return p.containerPort;
  throw new KubeError(`pod ${pod.metadata.name} has no container port named "${name}"`, 'PortNotFound');
}

/** The service port the config means: by number (port) or by name, as kubectl accepts both. */
export function findServicePort(svc: Service, namespace: string, port: number | string): ServicePort {
  const ports = svc.spec?.ports ?? [];
  const found = typeof port === 'number' ? ports.find((p) => p.port === port) : ports.find((p) => p.name === port);
  if (found !== undefined) return found;
  const list = ports.map((p) => (p.name ? `${p.name}=${p.port}` : String(p.port))).join(', ') || 'none';
  const asked = typeof port === 'number' ? `port ${port}` : `port named "${port}"`;
  throw new KubeError(`service ${namespace}/${svc.metadata.name} has no ${asked} (ports: ${list})`, 'PortNotFound');
}

/** kubectl's LookupContainerPortNumberByServicePort: targetPort number, or its name looked up in the pod. */
export function containerPortForService(svc: Service, sp: ServicePort, pod: Pod): number {
  if (svc.spec?.clusterIP === 'None') return sp.port;
  const tp = sp.targetPort;
  if (tp === undefined || tp === 0 || tp === '') return sp.port;
  if (typeof tp === 'number') return tp;
  if (/^\d+$/.test(tp)) return Number(tp);
  return containerPortByName(pod, tp);
}

/** The pod to use: the previous one while it still qualifies (no needless moves), else the longest Ready. */
export function choosePod(pods: Pod[], prefer: string | undefined): Pod | undefined {
  if (prefer !== undefined) {
    const same = pods.find((p) => p.metadata.name === prefer);
    if (same !== undefined) return same;
  }
  let best: Pod | undefined;
  let bestSince = '';
  for (const p of pods) {
    const since = readyCondition(p)?.lastTransitionTime ?? '';
    if (best === undefined || since < bestSince || (since === bestSince && p.metadata.name < best.metadata.name)) {
      best = p;
      bestSince = since;
    }
  }
  return best;
}

export function selectorString(selector: Record<string, string>): string {
  return Object.entries(selector)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}

function noReadyPod(what: string, all: Pod[], excluded: ReadonlySet<string>): KubeError {
  if (all.length === 0) return new KubeError(`${what}: no pod matches`, 'PodNotReady', { podLevel: true });
  const states = all
    .slice(0, 5)
    .map((p) => `${p.metadata.name} ${excluded.has(p.metadata.name) ? 'failed to open a stream' : podState(p)}`)
    .join('; ');
  const more = all.length > 5 ? `; and ${all.length - 5} more` : '';
  return new KubeError(`${what}: no Running and Ready pod (${states}${more})`, 'PodNotReady', { podLevel: true });
}

function readyPods(pods: Pod[], excluded: ReadonlySet<string>): Pod[] {
  return pods.filter((p) => isPodReady(p) && !excluded.has(p.metadata.name));
}

/**
 * Resolve the config to (pod, container port). `prefer` keeps the current pod when it still qualifies; `excluded`
 * holds pods that just failed to open a stream. Throws KubeError (PodNotReady, NotFound, PortNotFound, …).
 */
export async function resolveTarget(
  api: KubeReader,
  cfg: KubeTargetConfig,
  namespace: string,
  prefer: string | undefined,
  excluded: ReadonlySet<string>,
): Promise<ResolvedTarget> {
  if (cfg.pod !== undefined) {
    const pod = await api.pod(namespace, cfg.pod);
    // kubectl forwards to a named pod that is Running, Ready or not: the user chose that pod.
    if (pod.status?.phase !== 'Running' || pod.metadata.deletionTimestamp !== undefined) {
      throw new KubeError(`pod ${namespace}/${cfg.pod} is not running (${podState(pod)})`, 'PodNotRunning', {
        podLevel: true,
      });
    }
    const port = typeof cfg.port === 'number' ? cfg.port : containerPortByName(pod, cfg.port);
    return { pod: cfg.pod, port, candidates: [cfg.pod] };
  }

  if (cfg.selector !== undefined) {
    const all = (await api.pods(namespace, cfg.selector)).items ?? [];
    const ready = readyPods(all, excluded);
    const pod = choosePod(ready, prefer);
    if (pod === undefined) throw noReadyPod(`pods ${namespace}/${cfg.selector}`, all, excluded);
    const port = typeof cfg.port === 'number' ? cfg.port : containerPortByName(pod, cfg.port);
    return { pod: pod.metadata.name, port, candidates: ready.map((p) => p.metadata.name) };
  }

  const name = cfg.service ?? '';
  const svc = await api.service(namespace, name);
  const sp = findServicePort(svc, namespace, cfg.port);
  const selector = svc.spec?.selector ?? {};
  if (Object.keys(selector).length > 0) {
    const all = (await api.pods(namespace, selectorString(selector))).items ?? [];
    const ready = readyPods(all, excluded);
    const pod = choosePod(ready, prefer);
    if (pod === undefined) throw noReadyPod(`service ${namespace}/${name}`, all, excluded);
    return {
      pod: pod.metadata.name,
      port: containerPortForService(svc, sp, pod),
      candidates: ready.map((p) => p.metadata.name),
    };
  }

  // A service without a selector: its EndpointSlices are managed by hand (or by a controller); use the endpoints
  // that are ready pods. The slice's port of the same name is the already resolved target port.
  const slices = (await api.endpointSlices(namespace, name)).items ?? [];
  const byPod = new Map<string, number>();
  for (const s of slices) {
    const sliceport = (s.ports ?? []).find((p) => (p.name ?? '') === (sp.name ?? ''));
    for (const e of s.endpoints ?? []) {
      const ref = e.targetRef;
      if (ref?.kind !== 'Pod' || ref.name === undefined || e.conditions?.ready === false) continue;
      if (excluded.has(ref.name)) continue;
      byPod.set(ref.name, sliceport?.port ?? sp.port);
    }
  }
  const candidates = [...byPod.keys()];
  const chosen = prefer !== undefined && byPod.has(prefer) ? prefer : candidates.sort()[0];
  if (chosen === undefined) {
    throw new KubeError(`service ${namespace}/${name} has no selector and no ready pod among its endpoints`, 'PodNotReady', {
      podLevel: true,
    });
  }
  return { pod: chosen, port: byPod.get(chosen) ?? sp.port, candidates };
}
