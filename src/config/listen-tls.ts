import { createHash } from 'node:crypto';
import { PemReader } from './pem-files.js';
import type { Config, ForwardConfig } from './types.js';
import type { ConfigProblem } from './validate.js';

/**
 * A forward's `listen_tls` as written: the certificate and key its listener serves, or "internal" for one issued by
 * kflog's own local CA (src/pki/local-ca.ts), as Caddy's `tls internal`.
 */
export type RawListenTls =
  | 'internal'
  | {
      cert_file: string;
      key_file: string;
      /** PEM CAs a client certificate must be signed by; set, the listener asks for one (Caddy's verify_if_given). */
      client_ca_file?: string;
    };

/** `listen_tls` resolved: what the listener's secure context is built from, every file already read. */
export interface ListenTls {
  /** PEM: the leaf, then any chain the file had after it. */
  cert: string;
  key: string;
  /** PEM CAs of client certificates: the listener asks clients for one and checks the one it is given. */
  clientCa?: string;
  /** The certificate was issued by kflog's local CA for the listen host ("internal"). */
  internal: boolean;
  /** sha256 of all of the above: a reload gives the listener a new secure context only when it changed. */
  digest: string;
}

/** What a forward's `listen_tls` is once the config is parsed: "internal" waits for its certificate (local-ca.ts). */
export type ParsedListenTls = ListenTls | 'internal';

/** The listener serves (or, before start, will serve) a leaf of kflog's local CA: clients must trust its root. */
export function servesInternalLeaf(tls: ParsedListenTls | undefined): boolean {
  return tls === 'internal' || (tls !== undefined && tls.internal);
}

export function listenTlsDigest(tls: Omit<ListenTls, 'digest'>): string {
  return createHash('sha256').update(JSON.stringify(tls)).digest('hex');
}

/**
 * Reads and checks the files of a forward's `listen_tls` (at `at`, its JSON pointer), the way readUpstreamTls reads
 * the upstream's: a file that cannot be read, holds no certificate or no key, or a key that is not the
 * certificate's, is a problem naming its key.
 */
export function readListenTls(raw: RawListenTls, at: string): { tls?: ParsedListenTls; problems: ConfigProblem[] } {
  if (raw === 'internal') return { tls: 'internal', problems: [] };
  const files = new PemReader(at);
  const pair = files.pair('cert_file', raw.cert_file, 'key_file', raw.key_file);
  const clientCa = raw.client_ca_file === undefined ? undefined : files.read('client_ca_file', raw.client_ca_file);
  if (clientCa !== undefined) files.certificates('client_ca_file', raw.client_ca_file!, clientCa);
  if (pair === undefined || files.problems.length > 0) return { problems: files.problems };
  const tls: Omit<ListenTls, 'digest'> = { cert: pair.cert, key: pair.key, internal: false };
  if (clientCa !== undefined) tls.clientCa = clientCa;
  return { tls: { ...tls, digest: listenTlsDigest(tls) }, problems: [] };
}

/**
 * The config with each `listen_tls: "internal"` given its certificate, issued by kflog's local CA for the forward's
 * listen host (or the one kept for it): done where the config is chosen, before anything listens, so `kflog
 * validate` makes the CA as `kflog run` would and refuses what run would. Problems name the forward's listen_tls.
 */
export async function withInternalCertificates(config: Config): Promise<{ config: Config; problems: ConfigProblem[] }> {
  if (!config.forwards.some((f) => f.listenTls === 'internal')) return { config, problems: [] };
  const { internalCertificate } = await import('../pki/local-ca.js');
  const problems: ConfigProblem[] = [];
  const forwards = await Promise.all(config.forwards.map(async (f, i): Promise<ForwardConfig> => {
    if (f.listenTls !== 'internal') return f;
    try {
      const { cert, key } = await internalCertificate(f.host);
      const tls: Omit<ListenTls, 'digest'> = { cert, key, internal: true };
      return { ...f, listenTls: { ...tls, digest: listenTlsDigest(tls) } };
    } catch (err) {
      problems.push({ pointer: `/forwards/${i}/listen_tls`, reason: (err as Error).message });
      return f;
    }
  }));
  return { config: { ...config, forwards }, problems };
}
