import { createHash } from 'node:crypto';
import { PemReader } from './pem-files.js';
import type { ConfigProblem } from './validate.js';

/** A forward's `tls` block as written: Caddy's reverse_proxy http transport options, in kflog's names. */
export interface RawUpstreamTls {
  ca_file?: string;
  server_name?: string;
  insecure_skip_verify?: boolean;
  client_cert_file?: string;
  client_key_file?: string;
}

/**
 * The TLS a forward's https upstream is dialled with, its files already read (at load: a reload reads them again).
 * `ca` replaces the system roots, as Caddy's `tls_trusted_ca_certs` does (Go's RootCAs) and node's `ca` does.
 */
export interface UpstreamTls {
  ca?: string;
  servername?: string;
  insecureSkipVerify: boolean;
  cert?: string;
  key?: string;
  /** sha256 of every setting and file read: a reload keeps the target only when this is unchanged. */
  digest: string;
}

/**
 * Reads and checks the files of a forward's `tls` block (at `at`, its JSON pointer). Problems name the key and why;
 * a block without problems comes back resolved.
 */
export function readUpstreamTls(raw: RawUpstreamTls, at: string): { tls?: UpstreamTls; problems: ConfigProblem[] } {
  const files = new PemReader(at);
  const ca = raw.ca_file === undefined ? undefined : files.read('ca_file', raw.ca_file);
  if (ca !== undefined) files.certificates('ca_file', raw.ca_file!, ca);
  let pair: { cert: string; key: string } | undefined;
  if ((raw.client_cert_file === undefined) !== (raw.client_key_file === undefined)) {
    const missing = raw.client_cert_file === undefined ? 'client_cert_file' : 'client_key_file';
    files.problem(missing, 'client_cert_file and client_key_file go together: a client certificate needs its key and a key its certificate');
  } else if (raw.client_cert_file !== undefined) {
    pair = files.pair('client_cert_file', raw.client_cert_file, 'client_key_file', raw.client_key_file!);
  }
  if (files.problems.length > 0) return { problems: files.problems };
  const tls: Omit<UpstreamTls, 'digest'> = { insecureSkipVerify: raw.insecure_skip_verify ?? false };
  if (ca !== undefined) tls.ca = ca;
  if (raw.server_name !== undefined) tls.servername = raw.server_name;
  if (pair !== undefined) {
    tls.cert = pair.cert;
    tls.key = pair.key;
  }
  const digest = createHash('sha256').update(JSON.stringify(tls)).digest('hex');
  return { tls: { ...tls, digest }, problems: [] };
}
