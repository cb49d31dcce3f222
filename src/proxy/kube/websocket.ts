import type { IncomingMessage } from 'node:http';
import type { PortForward } from '@kubernetes/client-node';
import WebSocket from 'ws';
import { applyCredentials } from './api.js';
import { KubeError, statusError, timeoutError, unreachableError } from './errors.js';
import type { LoadedKubeConfig } from './kubeconfig.js';

/** client-node's WebSocketInterface (not exported by name from the package root). */
export type WebSocketInterface = NonNullable<ConstructorParameters<typeof PortForward>[2]>;

/**
 * The port-forward subprotocols kubelet and the API server speak over WebSocket; both frame binary messages as one
 * channel byte + payload. (client-node also offers v5, which port-forward does not implement.)
 */
const PROTOCOLS = ['v4.channel.k8s.io', 'channel.k8s.io'];
const MAX_ERROR_BODY = 64 * 1024;

function readBody(res: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    res.on('data', (c: Buffer) => {
      if (size < MAX_ERROR_BODY) chunks.push(c);
      size += c.length;
    });
    res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    res.on('error', () => resolve(Buffer.concat(chunks).toString('utf8')));
  });
}

/**
 * Opens the WebSocket for client-node's PortForward. It replaces client-node's WebSocketHandler.connect for two
 * reasons: a refused upgrade must keep the API server's Status (401 Unauthorized, 404 pods "x" not found) instead of
 * "Unexpected server response", and the handshake must end within the connect budget.
 */
export class PortForwardWebSocket implements WebSocketInterface {
  constructor(
    private readonly loaded: LoadedKubeConfig,
    private readonly what: string,
    private readonly timeoutMs: number,
  ) {}

  async connect(
    path: string,
    textHandler: ((text: string) => boolean) | null,
    binaryHandler: ((stream: number, buff: Buffer) => boolean) | null,
  ): Promise<WebSocket> {
    const { loaded, what, timeoutMs } = this;
    const opts: WebSocket.ClientOptions = { handshakeTimeout: timeoutMs, perMessageDeflate: false };
    await applyCredentials(loaded, opts);
    const url = loaded.server.replace(/^http/, 'ws') + path;
    return new Promise<WebSocket>((resolve, reject) => {
      const ws = new WebSocket(url, PROTOCOLS, opts);
      let settled = false;
      const fail = (err: KubeError): void => {
        if (settled) return;
        settled = true;
        reject(err);
        ws.terminate();
      };
      ws.on('unexpected-response', (_req, res: IncomingMessage) => {
        const status = res.statusCode ?? 0;
        void readBody(res).then((body) => fail(statusError(status, body, what, loaded.server, true)));
      });
      ws.on('open', () => {
        settled = true;
        resolve(ws);
      });
      // Always listened to: an 'error' without a listener would crash the process.
      ws.on('error', (err: Error) => {
        if (/handshake has timed out/i.test(err.message)) fail(timeoutError(loaded.server, what, timeoutMs));
        else fail(unreachableError(loaded.server, err));
      });
      ws.on('message', (data: Buffer, isBinary: boolean) => {
        if (!isBinary) {
          if (textHandler !== null && !textHandler(data.toString('utf8'))) ws.close();
          return;
        }
        if (data.length === 0 || binaryHandler === null) return;
        if (!binaryHandler(data[0] ?? 0, data.subarray(1))) ws.close();
      });
    });
  }
}
