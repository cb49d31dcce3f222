import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { PortForward } from '@kubernetes/client-node';
import type { buildConnector } from 'undici';
import type WebSocket from 'ws';
import type { KubeTargetConfig } from '../../config/types.js';
import type { UpstreamTls } from '../../config/upstream-tls.js';
import { getJson } from './api.js';
import { KubeError } from './errors.js';
import { kubeConfigChanged, loadKubeConfig, type LoadedKubeConfig } from './kubeconfig.js';
import { resolveTarget, type EndpointSlice, type KubeReader, type List, type Pod, type ResolvedTarget, type Service } from './resolve.js';
import { PortForwardSocket } from './socket.js';
import { startTls } from './tls-stream.js';
import { PortForwardWebSocket } from './websocket.js';

export interface KubeUpstream {
  /** "namespace.service", "namespace.pod" or "namespace.<selector>": the target's name (HAProxy's backend). */
  readonly name: string;
  /** For `new Pool(origin, { connect })`: each connection is one port-forward stream to a ready pod. */
  readonly connect: buildConnector.connector;
  /** Port-forward streams opened, and attempts that failed (/metrics' kflog_kube_portforward_… counters). */
  readonly streams: PortForwardCounts;
  /** Ends every open stream; later connections fail. */
  close(): Promise<void>;
}

export interface PortForwardCounts {
  opened: number;
  failed: number;
}

/** Where kube.portforward.<id> entries go. */
export interface KubeEvents {
  emit(level: 'debug' | 'info' | 'warn' | 'error', msg: string, fields: Record<string, unknown>): void;
}

export interface KubeUpstreamOptions {
  /** Budget for one connection: resolution plus stream opening. Default 10 s (undici's connect timeout). */
  connectTimeoutMs?: number;
  /** How long a resolved pod is reused before the API server is asked again. Default 2 s. */
  resolveTtlMs?: number;
  /** The pod serves HTTPS: TLS is spoken inside each stream, with the forward's `tls` options. */
  tls?: UpstreamTls;
}

const podBySocket = new WeakMap<object, string>();

/** The pod a connected socket (as handed to undici by a KubeUpstream's connector) reaches. */
export function podOfSocket(socket: object): string | undefined {
  return podBySocket.get(socket);
}

interface Current extends ResolvedTarget {
  at: number;
}

/**
 * A Kubernetes target as undici sees it: a connector. Creating it never touches the network and never throws, so
 * kflog starts without a cluster; every connection resolves (cached briefly) and opens its own stream, so a lost
 * pod costs the exchanges in flight on it, never the forward.
 */
class KubeUpstreamImpl implements KubeUpstream {
  readonly streams: PortForwardCounts = { opened: 0, failed: 0 };
  readonly name: string;
  readonly connect: buildConnector.connector;
  private readonly cfg: KubeTargetConfig;
  private readonly events: KubeEvents;
  private readonly forwardId: string;
  private readonly connectTimeoutMs: number;
  private readonly resolveTtlMs: number;
  private loaded: LoadedKubeConfig | null = null;
  private current: Current | null = null;
  private resolving: Promise<Current> | null = null;
  private readonly sockets = new Set<PortForwardSocket>();
  /** Pods reported lost and not chosen since: each loss is said once, however many streams notice it. */
  private readonly lost = new Set<string>();
  /** Message of the last failed connection while failing, to log each distinct failure once. */
  private failing: string | null = null;
  private closed = false;
  private readonly tls: UpstreamTls | undefined;
  /** The name a pod's certificate is checked against: server_name, or the service's cluster DNS name. */
  readonly serverName: string | undefined;

  constructor(forwardId: string, cfg: KubeTargetConfig, events: KubeEvents, opts: KubeUpstreamOptions) {
    this.forwardId = forwardId;
    this.cfg = cfg;
    this.events = events;
    this.connectTimeoutMs = opts.connectTimeoutMs ?? 10_000;
    this.resolveTtlMs = opts.resolveTtlMs ?? 2_000;
    let namespace = cfg.namespace;
    let unusable: Error | undefined;
    try {
      // Local files only, no network: whether the kubeconfig and the context exist is known at start.
      this.loaded = loadKubeConfig(cfg);
      namespace ??= this.loaded.namespace;
    } catch (err) {
      unusable = err instanceof Error ? err : new Error(String(err));
      namespace ??= 'default'; // each connection tries the kubeconfig again
    }
    this.name = `${namespace}.${cfg.service ?? cfg.pod ?? cfg.selector ?? ''}`;
    this.tls = opts.tls;
    // As a client inside the cluster dials it; config validation asks pod and selector targets for server_name.
    this.serverName = opts.tls?.servername ?? (cfg.service !== undefined ? `${cfg.service}.${namespace}.svc` : undefined);
    if (unusable !== undefined) {
      // Said once at start; the first connection failing for the same reason does not say it again.
      this.failing = unusable.message;
      this.events.emit('warn', 'kubeconfig unusable: connections answer 502 until it is fixed', this.fields({
        error: unusable.message,
        reason: (unusable as Partial<KubeError>).reason,
      }));
    }
    this.connect = (_options, callback) => {
      const deadline = Date.now() + this.connectTimeoutMs;
      this.open().then(
        (stream) => (this.tls === undefined ? stream : this.secure(stream, this.tls, deadline)),
      ).then(
        // A Duplex with net.Socket's knobs: undici reads, writes, corks and destroys it like a TCP socket.
        (socket) => callback(null, socket as unknown as Socket),
        (err: Error) => callback(err, null),
      );
    };
  }

  /** The stream wrapped in TLS, within what is left of the connection's budget; the TLS socket still names its pod. */
  private async secure(stream: PortForwardSocket, tls: UpstreamTls, deadline: number): Promise<Duplex> {
    const secured = await startTls(stream, tls, this.serverName, Math.max(1, deadline - Date.now()));
    podBySocket.set(secured, stream.pod);
    return secured;
  }

  private fields(extra: Record<string, unknown>): Record<string, unknown> {
    return { forward: this.forwardId, backend: this.name, ...extra };
  }

  /** The kubeconfig, loaded again when it failed before or its file changed. */
  private config(): LoadedKubeConfig {
    if (this.loaded === null || kubeConfigChanged(this.loaded)) {
      const before = this.loaded;
      this.loaded = loadKubeConfig(this.cfg);
      if (before !== null) {
        this.current = null;
        this.events.emit('info', 'kubeconfig reloaded', this.fields({ context: this.loaded.context, server: this.loaded.server }));
      }
    }
    return this.loaded;
  }

  private reader(loaded: LoadedKubeConfig, timeoutMs: number): KubeReader {
    const ns = (n: string): string => `/api/v1/namespaces/${encodeURIComponent(n)}`;
    return {
      service: (n, name) => getJson<Service>(loaded, `${ns(n)}/services/${encodeURIComponent(name)}`, `get service ${n}/${name}`, timeoutMs),
      pod: (n, name) => getJson<Pod>(loaded, `${ns(n)}/pods/${encodeURIComponent(name)}`, `get pod ${n}/${name}`, timeoutMs, true),
      pods: (n, sel) =>
        getJson<List<Pod>>(loaded, `${ns(n)}/pods?labelSelector=${encodeURIComponent(sel)}`, `list pods ${n}/${sel}`, timeoutMs),
      endpointSlices: (n, svc) =>
        getJson<List<EndpointSlice>>(
          loaded,
          `/apis/discovery.k8s.io/v1/namespaces/${encodeURIComponent(n)}/endpointslices?labelSelector=${encodeURIComponent(`kubernetes.io/service-name=${svc}`)}`,
          `list endpointslices ${n}/${svc}`,
          timeoutMs,
        ),
    };
  }

  /** The pod to use: cached for resolveTtlMs, one resolution at a time; `excluded` forces a fresh one. */
  private target(loaded: LoadedKubeConfig, deadline: number, excluded?: string): Promise<Current> {
    const cur = this.current;
    if (excluded === undefined) {
      if (cur !== null && Date.now() - cur.at < this.resolveTtlMs) return Promise.resolve(cur);
      if (this.resolving !== null) return this.resolving;
    }
    const api = this.reader(loaded, Math.max(1, deadline - Date.now()));
    const skip = new Set<string>(excluded === undefined ? [] : [excluded]);
    const p = resolveTarget(api, this.cfg, loaded.namespace, cur?.pod, skip).then((t) => this.adopt(t));
    if (excluded === undefined) {
      this.resolving = p;
      const clear = (): void => {
        if (this.resolving === p) this.resolving = null;
      };
      p.then(clear, clear);
    }
    return p;
  }

  private adopt(t: ResolvedTarget): Current {
    const prev = this.current?.pod;
    const next: Current = { ...t, at: Date.now() };
    this.current = next;
    this.lost.delete(t.pod);
    if (prev === undefined) {
      this.events.emit('info', 'pod chosen', this.fields({ pod: t.pod, port: t.port, ready_pods: t.candidates.length }));
    } else if (prev !== t.pod) {
      // A pod that simply stopped qualifying (deleted, not Ready) is lost here; one whose stream failed already was.
      this.lose(prev, 'no longer Running and Ready');
      this.events.emit('info', 'pod replaced', this.fields({ from: prev, to: t.pod, port: t.port, ready_pods: t.candidates.length }));
    }
    return next;
  }

  private lose(pod: string, reason: string): void {
    if (this.current?.pod === pod) this.current = { ...this.current, at: 0 }; // stale: next connection asks again
    if (this.lost.has(pod)) return;
    this.lost.add(pod);
    this.events.emit('warn', 'pod lost', this.fields({ pod, reason }));
  }

  private async stream(loaded: LoadedKubeConfig, t: Current, deadline: number): Promise<PortForwardSocket> {
    const ns = loaded.namespace;
    const budget = Math.max(1, deadline - Date.now());
    const socket = new PortForwardSocket(ns, t.pod, t.port);
    const handler = new PortForwardWebSocket(loaded, `open a port-forward stream to pod ${ns}/${t.pod}:${t.port}`, budget);
    const pf = new PortForward(loaded.kc, true, handler);
    // With retryCount 0, portForward returns the WebSocket itself.
    const ws = (await pf.portForward(ns, t.pod, [t.port], socket.output, socket.errors, socket.input, 0)) as WebSocket;
    if (this.closed) {
      ws.terminate();
      throw new KubeError('kube upstream closed', 'Closed');
    }
    socket.attach(ws);
    // kubelet answers on the error channel right after the upgrade when nothing listens on the port.
    if (socket.destroyed) throw socket.failure ?? new KubeError(`port-forward stream to pod ${ns}/${t.pod} closed at once`, 'StreamClosed', { podLevel: true });
    podBySocket.set(socket, t.pod);
    this.sockets.add(socket);
    this.events.emit('debug', 'stream opened', this.fields({ pod: t.pod, port: t.port, streams: this.sockets.size }));
    socket.once('close', () => {
      this.sockets.delete(socket);
      const failure = socket.failure;
      if (failure !== undefined && failure instanceof KubeError && failure.podLevel && this.current?.pod === t.pod) {
        this.current = { ...this.current, at: 0 }; // ask the API server before the next stream
      }
      this.events.emit(
        'debug',
        'stream closed',
        this.fields(failure === undefined ? { pod: t.pod, streams: this.sockets.size } : { pod: t.pod, streams: this.sockets.size, error: failure.message }),
      );
    });
    return socket;
  }

  private async openOnce(deadline: number): Promise<PortForwardSocket> {
    const loaded = this.config();
    const first = await this.target(loaded, deadline);
    try {
      return await this.stream(loaded, first, deadline);
    } catch (err) {
      if (!(err instanceof KubeError) || !err.podLevel || this.closed) throw err;
      // A pod named in the config has no replacement, unless it is gone and came back under its name (StatefulSet).
      if (this.cfg.pod !== undefined && err.status !== 404) throw err;
      // The pod is gone or refuses streams: mark it lost and try another one once, within the same budget.
      this.lose(first.pod, err.message);
      const second = await this.target(loaded, deadline, first.pod);
      return await this.stream(loaded, second, deadline);
    }
  }

  async open(): Promise<PortForwardSocket> {
    if (this.closed) throw new KubeError(`kube upstream ${this.name} is closed`, 'Closed');
    const deadline = Date.now() + this.connectTimeoutMs;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new KubeError(`port-forward to ${this.name} not established within ${this.connectTimeoutMs} ms`, 'Timeout')),
        this.connectTimeoutMs,
      );
    });
    const attempt = this.openOnce(deadline);
    try {
      const socket = await Promise.race([attempt, timeout]);
      this.streams.opened++;
      if (this.failing !== null) {
        this.events.emit('info', 'port-forward restored', this.fields({ pod: socket.pod, after: this.failing }));
        this.failing = null;
      }
      return socket;
    } catch (err) {
      // A stream that opens after the deadline is not wanted any more.
      attempt.then((late) => late.destroy(), () => undefined);
      const e = err instanceof Error ? err : new Error(String(err));
      this.streams.failed++;
      if (e.message !== this.failing) {
        this.failing = e.message;
        this.events.emit('warn', 'port-forward failed', this.fields({ error: e.message, reason: (e as Partial<KubeError>).reason }));
      }
      throw e;
    } finally {
      clearTimeout(timer);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    const closing: Array<Promise<void>> = [];
    for (const s of this.sockets) {
      closing.push(new Promise<void>((resolve) => (s.closed ? resolve() : s.once('close', () => resolve()))));
      s.destroy();
    }
    await Promise.all(closing);
  }
}

export function createKubeUpstream(
  forwardId: string,
  cfg: KubeTargetConfig,
  events: KubeEvents,
  options: KubeUpstreamOptions = {},
): KubeUpstream {
  return new KubeUpstreamImpl(forwardId, cfg, events, options);
}
