import { existsSync } from 'node:fs';
import { embeddedDefault, loadConfigFile } from '../config/load.js';
import { servesInternalLeaf } from '../config/listen-tls.js';
import type { Config } from '../config/types.js';
import { firstHeader } from '../encoders/headers.js';
import { pkiPaths } from '../pki/paths.js';
import { entriesOf, type ExchangeRow } from './store-read.js';

/** Where a stored exchange is sent again: its forward's listen address, as `kflog run` with that config binds it. */

export interface ForwardOrigin {
  /** http://host:port, or https://host:port for a forward with listen_tls. */
  origin: string;
  /** How it was found, for the line that says where a replay went. */
  from: string;
  /** The origin is a kflog forward (the request goes through kflog, and is logged as a replay). */
  throughKflog: boolean;
  /**
   * The CA file the origin's certificate is signed by, for a client to trust besides its own roots: kflog's local
   * CA for a `listen_tls: "internal"` forward, which no client trusts until told to (`kflog ca`).
   */
  caFile?: string;
}

/**
 * The config the store was found through: --config, else ./kflog.json, else (when no --store named another store)
 * the embedded default, whose store is the default one.
 */
export function configOf(opts: { store?: string; config?: string }): Config | undefined {
  if (opts.config !== undefined) return loadConfigFile(opts.config);
  if (existsSync('kflog.json')) return loadConfigFile('kflog.json');
  return opts.store === undefined ? embeddedDefault() : undefined;
}

/** A listen host as a host to connect to: a wildcard address is reached on loopback, an IPv6 one in brackets. */
function connectHost(host: string): string {
  if (host === '' || host === '0.0.0.0') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}

/**
 * The exchange's forward in `config`: its listen address, the port it had when the exchange was captured when the
 * config says 0 (a free port: the one it had then is the best guess, right while that kflog still runs). Without
 * the forward in a config, the Host the client used to reach kflog; undefined when there is none either.
 */
export function forwardOrigin(config: Config | undefined, row: ExchangeRow): ForwardOrigin | undefined {
  const forward = config?.forwards.find((f) => f.id === row.forward);
  if (config !== undefined && forward !== undefined) {
    const port = forward.port !== 0 ? forward.port : row.listen_port;
    if (port !== null && port !== 0) {
      const tls = forward.listenTls;
      const origin: ForwardOrigin = {
        origin: `${tls !== undefined ? 'https' : 'http'}://${connectHost(forward.host)}:${port}`,
        from: `forward ${forward.id} of ${config.source}`,
        throughKflog: true,
      };
      if (servesInternalLeaf(tls)) origin.caFile = pkiPaths().rootCert;
      return origin;
    }
  }
  const host = firstHeader(entriesOf(row).request.request.headers, 'Host');
  if (host === undefined || !/^[A-Za-z0-9.:[\]-]+$/.test(host)) return undefined;
  return { origin: `http://${host}`, from: `the Host the client used (no config names forward ${row.forward ?? '-'})`, throughKflog: true };
}
