import type { Duplex } from 'node:stream';
import { connect, type TLSSocket } from 'node:tls';
import type { UpstreamTls } from '../../config/upstream-tls.js';
import { tlsClientOptions } from '../tls-connector.js';
import { KubeError } from './errors.js';

/**
 * TLS spoken inside a port-forward stream, for a pod that serves HTTPS: kubectl port-forward carries bytes, so the
 * handshake is the client's, here kflog's, with the forward's `tls` options. Resolves once the handshake is done
 * (the certificate checked against `servername`, also sent as SNI), within `timeoutMs`; the stream is destroyed on any failure.
 */
export function startTls(stream: Duplex, tls: UpstreamTls, servername: string | undefined, timeoutMs: number): Promise<TLSSocket> {
  const peer = servername ?? 'the pod';
  return new Promise<TLSSocket>((resolve, reject) => {
    const socket = connect({
      socket: stream,
      // Absent only with insecure_skip_verify on a pod or selector target (validation asks the others for one).
      ...(servername !== undefined ? { servername } : {}),
      ...tlsClientOptions(tls),
    });
    const timer = setTimeout(() => {
      fail(new KubeError(`TLS handshake with ${peer} inside the port-forward stream not done within ${timeoutMs} ms`, 'Timeout'));
    }, timeoutMs);
    const fail = (err: Error): void => {
      clearTimeout(timer);
      socket.destroy();
      stream.destroy();
      reject(err);
    };
    socket.once('error', fail);
    socket.once('secureConnect', () => {
      clearTimeout(timer);
      socket.off('error', fail);
      resolve(socket);
    });
  });
}
