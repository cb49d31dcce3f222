/**
 * A protocol-faithful fake Kubernetes API server for tests: the JSON endpoints kflog reads (services, pods,
 * endpointslices) with Status objects for errors, and the pod portforward WebSocket endpoint with the
 * v4.channel.k8s.io framing kubelet uses (one channel byte per message; channel 0 data, channel 1 errors; the first
 * message of each channel is the port as little-endian uint16). A "pod" is a real local TCP server: each stream
 * opens a real connection to it.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { dirname, join } from 'node:path';
import type { Duplex } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { WebSocketServer, type WebSocket } from 'ws';

/** The self-signed certificate (SAN 127.0.0.1) of the TLS mode; found next to this file, also when compiled. */
function tlsFile(name: string): Buffer {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [join(here, 'tls', name), join(process.cwd(), 'test', 'proxy', 'kube', 'tls', name)];
  const found = candidates.find((c) => existsSync(c));
  if (found === undefined) throw new Error(`fake API server: ${name} not found in ${candidates.join(', ')}`);
  return readFileSync(found);
}

export interface FakePodSpec {
  name: string;
  namespace?: string;
  labels?: Record<string, string>;
  /** containerPort → local TCP port of the server standing in for that container port. */
  listeners: Record<number, number>;
  /** Declared container ports (for named-port lookups). Default: the listeners, unnamed. */
  ports?: Array<{ name?: string; containerPort: number }>;
  phase?: string;
  ready?: boolean;
  /** Ready since (lastTransitionTime): older ones are preferred. */
  readySince?: string;
}

export interface FakeServiceSpec {
  name: string;
  namespace?: string;
  selector?: Record<string, string>;
  ports: Array<{ name?: string; port: number; targetPort?: number | string }>;
  clusterIP?: string;
}

export interface FakeEndpointSliceSpec {
  name: string;
  namespace?: string;
  service: string;
  ports: Array<{ name?: string; port: number }>;
  endpoints: Array<{ pod: string; ready: boolean }>;
}

interface Stream {
  ns: string;
  pod: string;
  ws: WebSocket;
  conn: net.Socket | null;
}

function status(code: number, reason: string, message: string, details?: Record<string, string>): string {
  return JSON.stringify({
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message,
    reason,
    ...(details === undefined ? {} : { details }),
    code,
  });
}

const REASON_TEXT: Record<number, string> = { 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found' };

/** Label selector as the API server parses it: k=v, k==v, k!=v, k, !k joined by commas. */
function matches(selector: string, labels: Record<string, string>): boolean {
  for (const raw of selector.split(',')) {
    const term = raw.trim();
    if (term === '') continue;
    let m: RegExpMatchArray | null;
    if ((m = term.match(/^([^!=]+)!=(.*)$/))) {
      if (labels[m[1]!.trim()] === m[2]!.trim()) return false;
    } else if ((m = term.match(/^([^!=]+)==?(.*)$/))) {
      if (labels[m[1]!.trim()] !== m[2]!.trim()) return false;
    } else if (term.startsWith('!')) {
      if (term.slice(1) in labels) return false;
    } else if (!(term in labels)) return false;
  }
  return true;
}

export class FakeApiServer {
  /** Bearer token required on every request; undefined = no authentication. */
  token: string | undefined;
  /** "verb resource" pairs refused with 403, e.g. "get services", "create pods/portforward". */
  readonly forbidden = new Set<string>();
  /** Every request seen: "GET /api/v1/…" or "WS /api/v1/…/portforward?ports=80 (v4.channel.k8s.io)". */
  readonly requests: string[] = [];
  readonly user = 'system:serviceaccount:dev:kflog';
  private readonly pods = new Map<string, FakePodSpec>();
  private readonly services = new Map<string, FakeServiceSpec>();
  private readonly slices = new Map<string, FakeEndpointSliceSpec>();
  private readonly streams = new Set<Stream>();
  /** Streams ever opened, per pod name. */
  readonly streamsOpened = new Map<string, number>();
  private server: http.Server | https.Server | null = null;
  private readonly wss = new WebSocketServer({
    noServer: true,
    perMessageDeflate: false,
    // kubelet's port-forward speaks v4.channel.k8s.io (and the legacy unversioned channel.k8s.io); never v5.
    handleProtocols: (protocols: Set<string>) =>
      protocols.has('v4.channel.k8s.io') ? 'v4.channel.k8s.io' : protocols.has('channel.k8s.io') ? 'channel.k8s.io' : false,
  });
  private port = 0;

  constructor(readonly tls = false) {}

  get url(): string {
    return `${this.tls ? 'https' : 'http'}://127.0.0.1:${this.port}`;
  }

  get openStreams(): number {
    return this.streams.size;
  }

  /** Start listening (port 0: any; or a given port, to come back up where a kubeconfig already points). */
  async listen(port = 0): Promise<this> {
    const handler = (req: http.IncomingMessage, res: http.ServerResponse): void => this.onRequest(req, res);
    const server = this.tls ? https.createServer({ cert: tlsFile('apiserver.crt'), key: tlsFile('apiserver.key') }, handler) : http.createServer(handler);
    server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => this.onUpgrade(req, socket, head));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    this.server = server;
    this.port = (server.address() as net.AddressInfo).port;
    return this;
  }

  /** Stop: the cluster is down (open streams die with it). */
  async stop(): Promise<void> {
    for (const s of this.streams) {
      s.ws.terminate();
      s.conn?.destroy();
    }
    this.streams.clear();
    const server = this.server;
    this.server = null;
    if (server === null) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** A port nothing listens on yet (for "cluster down at start"); listen(reservePort()) later brings it up. */
  static async reservePort(): Promise<number> {
    const s = net.createServer();
    await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', () => resolve()));
    const port = (s.address() as net.AddressInfo).port;
    await new Promise<void>((resolve) => s.close(() => resolve()));
    return port;
  }

  addPod(spec: FakePodSpec): void {
    this.pods.set(`${spec.namespace ?? 'default'}/${spec.name}`, spec);
  }

  addService(spec: FakeServiceSpec): void {
    this.services.set(`${spec.namespace ?? 'default'}/${spec.name}`, spec);
  }

  addEndpointSlice(spec: FakeEndpointSliceSpec): void {
    this.slices.set(`${spec.namespace ?? 'default'}/${spec.name}`, spec);
  }

  setReady(name: string, ready: boolean, namespace = 'default'): void {
    const p = this.pods.get(`${namespace}/${name}`);
    if (p !== undefined) p.ready = ready;
  }

  /** Delete a pod as the cluster would: it leaves the listings and its containers' connections die. */
  deletePod(name: string, namespace = 'default'): void {
    this.pods.delete(`${namespace}/${name}`);
    for (const s of this.streams) if (s.ns === namespace && s.pod === name) s.conn?.destroy();
  }

  /** A kubeconfig with one context pointing at this server (or at `server` if given). */
  writeKubeconfig(path: string, opts: { token?: string; namespace?: string; server?: string; context?: string } = {}): string {
    const server = opts.server ?? this.url;
    const ctx = opts.context ?? 'fake';
    const cluster = server.startsWith('https')
      ? `    certificate-authority-data: ${tlsFile('apiserver.crt').toString('base64')}\n`
      : '    insecure-skip-tls-verify: true\n';
    const token = opts.token ?? this.token;
    const text =
      'apiVersion: v1\nkind: Config\n' +
      `clusters:\n- name: ${ctx}-cluster\n  cluster:\n    server: ${server}\n${cluster}` +
      `users:\n- name: ${ctx}-user\n  user:\n${token === undefined ? '    {}\n' : `    token: ${token}\n`}` +
      `contexts:\n- name: ${ctx}\n  context:\n    cluster: ${ctx}-cluster\n    user: ${ctx}-user\n` +
      (opts.namespace === undefined ? '' : `    namespace: ${opts.namespace}\n`) +
      `current-context: ${ctx}\n`;
    writeFileSync(path, text);
    return path;
  }

  // ---- API objects as the API server serialises them ----

  private podJson(p: FakePodSpec): unknown {
    const ports = p.ports ?? Object.keys(p.listeners).map((cp) => ({ containerPort: Number(cp) }));
    const ready = p.ready ?? true;
    return {
      kind: 'Pod',
      apiVersion: 'v1',
      metadata: { name: p.name, namespace: p.namespace ?? 'default', uid: `uid-${p.name}`, labels: p.labels ?? {} },
      spec: { containers: [{ name: 'app', image: 'example/app:1', ports: ports.map((x) => ({ ...x, protocol: 'TCP' })) }] },
      status: {
        phase: p.phase ?? 'Running',
        conditions: [
          { type: 'PodScheduled', status: 'True', lastTransitionTime: '2026-01-01T00:00:00Z' },
          { type: 'Ready', status: ready ? 'True' : 'False', lastTransitionTime: p.readySince ?? '2026-01-01T00:00:10Z' },
        ],
        podIP: '10.244.0.7',
      },
    };
  }

  private serviceJson(s: FakeServiceSpec): unknown {
    return {
      kind: 'Service',
      apiVersion: 'v1',
      metadata: { name: s.name, namespace: s.namespace ?? 'default' },
      spec: {
        ...(s.selector === undefined ? {} : { selector: s.selector }),
        clusterIP: s.clusterIP ?? '10.96.0.10',
        // The API server defaults targetPort to port.
        ports: s.ports.map((p) => ({ protocol: 'TCP', ...p, targetPort: p.targetPort ?? p.port })),
      },
    };
  }

  private sliceJson(e: FakeEndpointSliceSpec): unknown {
    return {
      kind: 'EndpointSlice',
      apiVersion: 'discovery.k8s.io/v1',
      metadata: { name: e.name, namespace: e.namespace ?? 'default', labels: { 'kubernetes.io/service-name': e.service } },
      addressType: 'IPv4',
      endpoints: e.endpoints.map((x) => ({
        addresses: ['10.244.0.9'],
        conditions: { ready: x.ready, serving: x.ready, terminating: false },
        targetRef: { kind: 'Pod', namespace: e.namespace ?? 'default', name: x.pod },
      })),
      ports: e.ports.map((p) => ({ name: p.name ?? '', port: p.port, protocol: 'TCP' })),
    };
  }

  // ---- HTTP ----

  /** null when allowed; else [status, Status JSON]. */
  private deny(req: http.IncomingMessage, verb: string, resource: string, ns: string, name?: string): [number, string] | null {
    if (this.token !== undefined && req.headers.authorization !== `Bearer ${this.token}`) {
      return [401, status(401, 'Unauthorized', 'Unauthorized')];
    }
    if (this.forbidden.has(`${verb} ${resource}`)) {
      const [res, sub] = resource.split('/');
      const what = name === undefined ? res : `${res} "${name}"`;
      const msg =
        `${what} is forbidden: User "${this.user}" cannot ${verb} resource "${res}"` +
        (sub === undefined ? '' : ` with subresource "${sub}"`) +
        ` in API group "${resource.startsWith('endpointslices') ? 'discovery.k8s.io' : ''}" in the namespace "${ns}"`;
      return [403, status(403, 'Forbidden', msg, { name: name ?? '', kind: res! })];
    }
    return null;
  }

  private onRequest(req: http.IncomingMessage, res: http.ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://x');
    this.requests.push(`${req.method} ${url.pathname}${url.search}`);
    const send = (code: number, body: string): void => {
      res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
      res.end(body);
    };
    const notFound = (kind: string, name: string): void => send(404, status(404, 'NotFound', `${kind} "${name}" not found`, { name, kind }));
    let m: RegExpMatchArray | null;
    if ((m = url.pathname.match(/^\/api\/v1\/namespaces\/([^/]+)\/(services|pods)\/([^/]+)$/))) {
      const [, ns, kind, name] = m as unknown as [string, string, string, string];
      const denied = this.deny(req, 'get', kind, ns, name);
      if (denied) return send(...denied);
      const obj = kind === 'pods' ? this.pods.get(`${ns}/${name}`) : this.services.get(`${ns}/${name}`);
      if (obj === undefined) return notFound(kind, name);
      return send(200, JSON.stringify(kind === 'pods' ? this.podJson(obj as FakePodSpec) : this.serviceJson(obj as FakeServiceSpec)));
    }
    if ((m = url.pathname.match(/^\/api\/v1\/namespaces\/([^/]+)\/pods$/))) {
      const ns = m[1]!;
      const denied = this.deny(req, 'list', 'pods', ns);
      if (denied) return send(...denied);
      const sel = url.searchParams.get('labelSelector') ?? '';
      const items = [...this.pods.values()]
        .filter((p) => (p.namespace ?? 'default') === ns && matches(sel, p.labels ?? {}))
        .map((p) => this.podJson(p));
      return send(200, JSON.stringify({ kind: 'PodList', apiVersion: 'v1', metadata: { resourceVersion: '1' }, items }));
    }
    if ((m = url.pathname.match(/^\/apis\/discovery\.k8s\.io\/v1\/namespaces\/([^/]+)\/endpointslices$/))) {
      const ns = m[1]!;
      const denied = this.deny(req, 'list', 'endpointslices', ns);
      if (denied) return send(...denied);
      const sel = url.searchParams.get('labelSelector') ?? '';
      const items = [...this.slices.values()]
        .filter((s) => (s.namespace ?? 'default') === ns && matches(sel, { 'kubernetes.io/service-name': s.service }))
        .map((s) => this.sliceJson(s));
      return send(200, JSON.stringify({ kind: 'EndpointSliceList', apiVersion: 'discovery.k8s.io/v1', metadata: {}, items }));
    }
    send(404, status(404, 'NotFound', 'the server could not find the requested resource'));
  }

  private refuseUpgrade(socket: Duplex, code: number, body: string): void {
    socket.end(
      `HTTP/1.1 ${code} ${REASON_TEXT[code] ?? 'Error'}\r\nContent-Type: application/json\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }

  private onUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => undefined);
    const url = new URL(req.url ?? '/', 'http://x');
    const proto = String(req.headers['sec-websocket-protocol'] ?? '');
    this.requests.push(`WS ${url.pathname}${url.search} (${proto})`);
    const m = url.pathname.match(/^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)\/portforward$/);
    if (m === null) return this.refuseUpgrade(socket, 404, status(404, 'NotFound', 'the server could not find the requested resource'));
    const [, ns, name] = m as unknown as [string, string, string];
    const denied = this.deny(req, 'create', 'pods/portforward', ns, name);
    if (denied) return this.refuseUpgrade(socket, ...denied);
    const pod = this.pods.get(`${ns}/${name}`);
    if (pod === undefined) return this.refuseUpgrade(socket, 404, status(404, 'NotFound', `pods "${name}" not found`, { name, kind: 'pods' }));
    const port = Number(url.searchParams.get('ports'));
    if (!Number.isInteger(port) || port < 1 || port > 65535) {
      return this.refuseUpgrade(socket, 400, status(400, 'BadRequest', `invalid port "${url.searchParams.get('ports')}"`));
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.onStream(ws, ns, pod, port));
  }

  private onStream(ws: WebSocket, ns: string, pod: FakePodSpec, port: number): void {
    const stream: Stream = { ns, pod: pod.name, ws, conn: null };
    this.streams.add(stream);
    this.streamsOpened.set(pod.name, (this.streamsOpened.get(pod.name) ?? 0) + 1);
    // kubelet writes the port on the data and the error channel before it dials the container port.
    const prefix = (channel: number): Buffer => Buffer.from([channel, port & 0xff, port >> 8]);
    ws.send(prefix(0));
    ws.send(prefix(1));
    const local = pod.listeners[port];
    const refuse = (why: string): void => {
      ws.send(
        Buffer.concat([
          Buffer.from([1]),
          Buffer.from(
            `an error occurred forwarding ${port} -> ${port}: error forwarding port ${port} to pod uid-${pod.name}, uid : ` +
              `failed to connect to localhost:${port} inside namespace "uid-${pod.name}": ${why}`,
          ),
        ]),
      );
      ws.close(1000);
    };
    ws.on('error', () => undefined);
    ws.on('close', () => {
      this.streams.delete(stream);
      stream.conn?.destroy();
    });
    if (local === undefined) return refuse('connect: connection refused');
    const conn = net.connect(local, '127.0.0.1');
    stream.conn = conn;
    conn.on('data', (chunk: Buffer) => {
      const frame = Buffer.allocUnsafe(chunk.length + 1);
      frame[0] = 0;
      chunk.copy(frame, 1);
      ws.send(frame);
    });
    conn.on('error', (err) => {
      if (!conn.readableEnded && ws.readyState === ws.OPEN && (err as NodeJS.ErrnoException).code === 'ECONNREFUSED') refuse('connect: connection refused');
    });
    conn.on('close', () => {
      if (ws.readyState === ws.OPEN) ws.close(1000);
    });
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (!isBinary || data.length === 0) return;
      if (data[0] === 0) conn.write(data.subarray(1));
    });
  }
}
