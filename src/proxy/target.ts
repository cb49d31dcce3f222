import { Pool, type Dispatcher } from 'undici';
import type { ForwardConfig } from '../config/types.js';
import type { UpstreamTls } from '../config/upstream-tls.js';
import type { ProcessLogger } from '../emit/pipeline.js';
import { trackUpstreamSockets } from './upstream-socket.js';
import { BuiltinEcho } from './builtin-echo.js';
import { defaultConnector, interimSafeConnector } from './interim.js';
import { http2Connector } from './h2-upstream.js';
import { tlsConnector } from './tls-connector.js';

/** Where a forward's requests go, as undici sees it: every kind of target is a Pool, so the proxy is one code path. */
export interface Target {
  /**
   * The target's name, which HAProxy's format writes as the backend (entries carry it as `forward.backend`): the
   * URL's host, "echo", or the Kubernetes "namespace.service".
   */
  readonly name: string;
  readonly dispatcher: Dispatcher;
  /** Prefix from the target URL's path, prepended to every request path ("" for none). */
  readonly pathPrefix: string;
  /** Host header sent upstream; undefined keeps the client's (as a port-forward does). */
  readonly hostHeader: string | undefined;
  /** host:port dialled, for logs. */
  readonly address: string;
  /** The upstream's certificate is not checked (`tls.insecure_skip_verify`): every access entry says so. */
  readonly tlsInsecure: boolean;
  /** "HTTP/2.0" when every request goes upstream over HTTP/2 (`versions` ["2"] or ["h2c"]); undefined for 1.1. */
  readonly proto: string | undefined;
  /** The pod an upstream socket reaches (Kubernetes targets only). */
  podOf?(socket: object): string | undefined;
  /** Port-forward streams opened and failed so far (Kubernetes targets only), for /metrics. */
  readonly portForwards?: { readonly opened: number; readonly failed: number };
  close(): Promise<void>;
}

export interface TargetContext {
  forward: ForwardConfig;
  kubeLogger: ProcessLogger;
}

function pool(origin: string, f: ForwardConfig, extra: Pool.Options = {}): Pool {
  const connect = typeof extra.connect === 'function' ? extra.connect : defaultConnector(f.timeouts.connectMs);
  const options: Pool.Options = {
    connections: 256,
    connectTimeout: f.timeouts.connectMs,
    headersTimeout: f.timeouts.headersMs,
    bodyTimeout: f.timeouts.bodyMs,
    keepAliveTimeout: 30_000,
    ...extra,
  };
  if (f.upstreamVersion !== '1.1') {
    // HTTP/2 has no 100 Continue problem to shim (undici's HTTP/2 client takes interim HEADERS), and its frames are
    // no request lines the shim could look for.
    return new Pool(origin, { ...options, allowH2: true, connect: http2Connector(connect, f.upstreamVersion) });
  }
  // An upstream's 100 Continue must not cost the client its response (undici would call it a bad response).
  return new Pool(origin, { pipelining: 1, ...options, connect: interimSafeConnector(connect) });
}

/** node's own TLS defaults (system roots, SNI from the URL), for an https target without a `tls` block. */
const DEFAULT_TLS: UpstreamTls = { insecureSkipVerify: false, digest: '' };

/** What access entries say was spoken upstream: set only for HTTP/2, so HTTP/1.1 entries stay as they were. */
function upstreamProto(f: ForwardConfig): string | undefined {
  return f.upstreamVersion === '1.1' ? undefined : 'HTTP/2.0';
}

export async function createTarget(ctx: TargetContext): Promise<Target> {
  const f = ctx.forward;
  const t = f.target;
  if ('url' in t) {
    const url = new URL(t.url);
    const tls = url.protocol === 'https:' ? f.tls : undefined;
    const h2 = f.upstreamVersion === '2';
    // An https target always gets a connector of its own: HTTP/2 must be offered in its ALPN (allowH2).
    const connect = tls !== undefined || h2 ? tlsConnector(f.timeouts.connectMs, tls ?? DEFAULT_TLS, h2) : undefined;
    const dispatcher = pool(url.origin, f, connect === undefined ? {} : { connect });
    const port = url.port || (url.protocol === 'https:' ? '443' : '80');
    return {
      name: url.hostname,
      dispatcher,
      pathPrefix: url.pathname === '/' ? '' : url.pathname.replace(/\/$/, ''),
      hostHeader: url.host,
      address: `${url.hostname}:${port}`,
      tlsInsecure: tls?.insecureSkipVerify ?? false,
      proto: upstreamProto(f),
      close: () => dispatcher.close(),
    };
  }
  if ('builtin' in t) {
    const echo = new BuiltinEcho();
    await echo.start();
    const dispatcher = pool(echo.origin, f);
    return {
      name: 'echo',
      dispatcher,
      pathPrefix: '',
      hostHeader: undefined,
      address: `127.0.0.1:${echo.port}`,
      tlsInsecure: false,
      proto: undefined,
      close: async () => {
        await dispatcher.close();
        await echo.stop();
      },
    };
  }
  // kube: the same Pool, its connections opened by port-forward streams (never fails here: no cluster needed to start),
  // TLS spoken inside them when the forward has `tls` (the pod serves HTTPS).
  // Loaded only when a kube target exists: @kubernetes/client-node alone costs ~65 MB of resident memory.
  const { createKubeUpstream, podOfSocket } = await import('./kube/upstream.js');
  trackUpstreamSockets();
  const events = { emit: ctx.kubeLogger.log.bind(ctx.kubeLogger) };
  const upstream = createKubeUpstream(f.id, t.kube, events, { connectTimeoutMs: f.timeouts.connectMs, ...(f.tls !== undefined ? { tls: f.tls } : {}) });
  const dispatcher = pool('http://kube.invalid', f, { connect: upstream.connect });
  return {
    name: upstream.name,
    dispatcher,
    pathPrefix: '',
    hostHeader: undefined,
    address: `${upstream.name}:${t.kube.port}`,
    tlsInsecure: f.tls?.insecureSkipVerify ?? false,
    proto: upstreamProto(f),
    podOf: podOfSocket,
    portForwards: upstream.streams,
    close: async () => {
      await dispatcher.close();
      await upstream.close();
    },
  };
}
