import { createHash, createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
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

/** The reason a file cannot be read, in words. */
function readProblem(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  return e.code === 'ENOENT' ? 'no such file' : e.code === 'EACCES' ? 'permission denied' : e.code === 'EISDIR' ? 'is a directory' : e.message;
}

/** Every PEM certificate in `text`; throws when there is none or one does not parse. */
function certificates(text: string): X509Certificate[] {
  const blocks = text.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) throw new Error('no PEM certificate in it');
  return blocks.map((b) => new X509Certificate(b));
}

/**
 * Reads and checks the files of a forward's `tls` block (at `at`, its JSON pointer). Problems name the key and why;
 * a block without problems comes back resolved.
 */
export function readUpstreamTls(raw: RawUpstreamTls, at: string): { tls?: UpstreamTls; problems: ConfigProblem[] } {
  const problems: ConfigProblem[] = [];
  const read = (key: keyof RawUpstreamTls, path: string): string | undefined => {
    try {
      return readFileSync(path, 'utf8');
    } catch (err) {
      problems.push({ pointer: `${at}/${key}`, reason: `cannot read ${path}: ${readProblem(err)}` });
      return undefined;
    }
  };
  /** The certificates of a file read for `key`, or a problem naming it when they do not parse. */
  const parsed = (key: 'ca_file' | 'client_cert_file', text: string): X509Certificate[] | undefined => {
    try {
      return certificates(text);
    } catch (err) {
      problems.push({ pointer: `${at}/${key}`, reason: `${raw[key]} is not a PEM certificate file: ${(err as Error).message}` });
      return undefined;
    }
  };
  const ca = raw.ca_file === undefined ? undefined : read('ca_file', raw.ca_file);
  if (ca !== undefined) parsed('ca_file', ca);
  if ((raw.client_cert_file === undefined) !== (raw.client_key_file === undefined)) {
    const missing = raw.client_cert_file === undefined ? 'client_cert_file' : 'client_key_file';
    problems.push({ pointer: `${at}/${missing}`, reason: 'client_cert_file and client_key_file go together: a client certificate needs its key and a key its certificate' });
  }
  const cert = raw.client_cert_file === undefined ? undefined : read('client_cert_file', raw.client_cert_file);
  const key = raw.client_key_file === undefined ? undefined : read('client_key_file', raw.client_key_file);
  const leaf = cert === undefined ? undefined : parsed('client_cert_file', cert)?.[0];
  let privateKey: KeyObject | undefined;
  if (key !== undefined) {
    try {
      privateKey = createPrivateKey(key);
    } catch (err) {
      problems.push({ pointer: `${at}/client_key_file`, reason: `${raw.client_key_file} is not a PEM private key: ${(err as Error).message}` });
    }
  }
  if (leaf !== undefined && privateKey !== undefined && !leaf.checkPrivateKey(privateKey)) {
    problems.push({ pointer: `${at}/client_key_file`, reason: `${raw.client_key_file} is not the key of the certificate in ${raw.client_cert_file}` });
  }
  if (problems.length > 0) return { problems };
  const tls: Omit<UpstreamTls, 'digest'> = { insecureSkipVerify: raw.insecure_skip_verify ?? false };
  if (ca !== undefined) tls.ca = ca;
  if (raw.server_name !== undefined) tls.servername = raw.server_name;
  if (cert !== undefined) tls.cert = cert;
  if (key !== undefined) tls.key = key;
  const digest = createHash('sha256').update(JSON.stringify(tls)).digest('hex');
  return { tls: { ...tls, digest }, problems };
}
