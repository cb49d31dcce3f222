import { createPrivateKey, X509Certificate } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { pkiPaths, type PkiPaths } from './paths.js';
import { issueLeaf, issueRoot, type IssuedPem } from './x509.js';

/**
 * kflog's local CA (`listen_tls: "internal"`), as Caddy's `tls internal`: a root made once under ~/.kflog/pki and
 * kept, and for each listen host a short-lived leaf it signs, kept beside it and issued again when it nears its
 * end, was signed by another root, or names other hosts. Only the root is to be trusted (`kflog ca` says how).
 */

/** The root's life: Caddy gives its local root ten years, so it is trusted once and forgotten. */
const ROOT_DAYS = 3650;
/** A leaf's life: short, as Caddy's internal certificates are, since nothing revokes a leaf whose key leaked. */
export const LEAF_LIFETIME_MS = 7 * 86_400_000;
/** Issued again once less than this is left: Caddy renews at a third of the lifetime remaining. */
const RENEW_BEFORE_MS = LEAF_LIFETIME_MS / 3;

/** The clock the CA judges a leaf's age by: Date.now, or a test's, so renewal is shown without waiting days. */
export type Now = () => number;

/** When the leaf `cert` (PEM) is to be issued again: a third of its life before its end. */
export function renewalAt(cert: string): number {
  return Date.parse(new X509Certificate(cert).validTo) - RENEW_BEFORE_MS;
}

/** The local CA could not be made or read: the message says where and why. */
export class LocalCaError extends Error {}

/** Writes `text` to `path` through a temporary file and a rename, so a reader never sees half of it. */
function writeAtomic(path: string, text: string, mode: number): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, text, { mode });
  renameSync(tmp, path);
}

function ensureDir(dir: string): void {
  if (existsSync(dir)) return;
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  // The mode given to mkdir is cut by the umask; the folder holds a private key, so it is set as meant.
  chmodSync(dir, 0o700);
}

function reason(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  return e.code === 'EACCES' ? 'permission denied' : e.code === 'ENOTDIR' ? 'a path component is not a folder' : e.message;
}

/** The root, read when it exists, else made and kept (the key written first, 0600). */
async function loadOrCreateRoot(paths: PkiPaths): Promise<IssuedPem> {
  if (existsSync(paths.rootCert) && existsSync(paths.rootKey)) {
    const root = { cert: readFileSync(paths.rootCert, 'utf8'), key: readFileSync(paths.rootKey, 'utf8') };
    if (!new X509Certificate(root.cert).checkPrivateKey(createPrivateKey(root.key))) {
      throw new LocalCaError(`${paths.rootKey} is not the key of ${paths.rootCert}: remove both to have a new CA made`);
    }
    return root;
  }
  ensureDir(paths.dir);
  const root = await issueRoot(`kflog local CA (${hostname()})`, ROOT_DAYS);
  writeAtomic(paths.rootKey, root.key, 0o600);
  writeAtomic(paths.rootCert, root.cert, 0o644);
  return root;
}

/**
 * The names a leaf for listen host `host` carries: the host itself (unless it is a wildcard), and the loopback
 * names a local client uses whatever the host (localhost, 127.0.0.1, ::1); a wildcard host adds the machine's name.
 */
export function leafNames(host: string): string[] {
  const names: string[] = [];
  const wildcard = host === '' || host === '0.0.0.0' || host === '::';
  if (!wildcard) names.push(host);
  else names.push(hostname());
  for (const n of ['localhost', '127.0.0.1', '::1']) if (!names.includes(n)) names.push(n);
  return names;
}

/** A kept leaf still to be served: signed by `root`, valid for every one of `names`, its key its own, not near its end. */
function usable(leaf: IssuedPem, root: X509Certificate, names: readonly string[], now: number): boolean {
  try {
    const cert = new X509Certificate(leaf.cert);
    if (!cert.checkIssued(root) || !cert.verify(root.publicKey)) return false;
    if (!cert.checkPrivateKey(createPrivateKey(leaf.key))) return false;
    if (Date.parse(cert.validTo) - now < RENEW_BEFORE_MS) return false;
    return names.every((n) => (isIP(n) !== 0 ? cert.checkIP(n) : cert.checkHost(n)) !== undefined);
  } catch {
    return false;
  }
}

/** The file name of the leaf kept for `host` (":" of an IPv6 address is not welcome in every file system). */
function leafBase(paths: PkiPaths, host: string): string {
  return join(paths.leafDir, (host === '' ? 'any' : host).replace(/[^A-Za-z0-9.-]/g, '_'));
}

/**
 * The certificate and key a listener on `host` serves: the kept leaf, or a new one issued,
 * the root made first when there is none.
 */
export async function internalCertificate(host: string, now: Now = Date.now): Promise<IssuedPem> {
  const paths = pkiPaths();
  try {
    const root = await loadOrCreateRoot(paths);
    const rootCert = new X509Certificate(root.cert);
    const names = leafNames(host);
    const base = leafBase(paths, host);
    let leaf: IssuedPem | undefined;
    if (existsSync(`${base}.crt`) && existsSync(`${base}.key`)) {
      const kept = { cert: readFileSync(`${base}.crt`, 'utf8'), key: readFileSync(`${base}.key`, 'utf8') };
      if (usable(kept, rootCert, names, now())) leaf = kept;
    }
    if (leaf === undefined) {
      leaf = await issueLeaf(root, names, LEAF_LIFETIME_MS, now());
      ensureDir(paths.leafDir);
      writeAtomic(`${base}.key`, leaf.key, 0o600);
      writeAtomic(`${base}.crt`, leaf.cert, 0o644);
    }
    return leaf;
  } catch (err) {
    if (err instanceof LocalCaError) throw err;
    throw new LocalCaError(`kflog's local CA in ${paths.dir}: ${reason(err)}`);
  }
}

/** Where the root is, and whether it exists (`kflog ca`); made when `create` and absent. */
export async function localRoot(create: boolean): Promise<{ paths: PkiPaths; exists: boolean; created: boolean }> {
  const paths = pkiPaths();
  const exists = existsSync(paths.rootCert) && existsSync(paths.rootKey);
  if (exists || !create) return { paths, exists, created: false };
  try {
    await loadOrCreateRoot(paths);
  } catch (err) {
    if (err instanceof LocalCaError) throw err;
    throw new LocalCaError(`kflog's local CA in ${paths.dir}: ${reason(err)}`);
  }
  return { paths, exists: true, created: true };
}
