import http from 'node:http';
import https from 'node:https';
import type WebSocket from 'ws';
import type { LoadedKubeConfig } from './kubeconfig.js';
import { KubeError, statusError, timeoutError, unreachableError } from './errors.js';

const MAX_BODY = 16 * 1024 * 1024;

/**
 * GET one API path and parse the JSON answer. Authentication, CA and client certificates come from the kubeconfig
 * exactly as client-node applies them to its own requests (applyToHTTPSOptions: tokens, exec plugins, OIDC, proxy
 * agents). Failures become KubeErrors that carry the Kubernetes Status reason and message.
 */
/**
 * Puts the context's credentials (token, client certificate, CA) on request options, for the JSON API and the
 * port-forward WebSocket alike. A failure — an exec credential plugin that fails, an unreadable client
 * certificate, plain http without skip-TLS… — becomes a CredentialsUnavailable KubeError naming the context.
 */
export async function applyCredentials(loaded: LoadedKubeConfig, opts: https.RequestOptions | WebSocket.ClientOptions): Promise<void> {
  try {
    await loaded.kc.applyToHTTPSOptions(opts);
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw new KubeError(`kubeconfig context "${loaded.context}": credentials unavailable: ${why}`, 'CredentialsUnavailable', {
      cause: err,
    });
  }
}

export async function getJson<T>(
  loaded: LoadedKubeConfig,
  path: string,
  what: string,
  timeoutMs: number,
  aboutPod = false,
): Promise<T> {
  const opts: https.RequestOptions = { method: 'GET', headers: {} };
  await applyCredentials(loaded, opts);
  (opts.headers as http.OutgoingHttpHeaders).Accept = 'application/json';
  const url = new URL(loaded.server + path);
  const request = url.protocol === 'http:' ? http.request : https.request;
  return new Promise<T>((resolve, reject) => {
    const req = request(url, opts, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > MAX_BODY) req.destroy(new Error(`answer larger than ${MAX_BODY} bytes`));
        else chunks.push(c);
      });
      res.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const status = res.statusCode ?? 0;
        if (status < 200 || status > 299) {
          reject(statusError(status, body, what, loaded.server, aboutPod));
          return;
        }
        try {
          resolve(JSON.parse(body) as T);
        } catch {
          reject(new KubeError(`kubernetes API ${loaded.server} answered ${what} with invalid JSON`, 'InvalidResponse'));
        }
      });
      res.on('error', (err) => reject(unreachableError(loaded.server, err)));
    });
    req.setTimeout(timeoutMs, () => req.destroy(timeoutError(loaded.server, what, timeoutMs)));
    req.on('error', (err) => reject(err instanceof KubeError ? err : unreachableError(loaded.server, err)));
    req.end();
  });
}
