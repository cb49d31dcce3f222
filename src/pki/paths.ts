import { join } from 'node:path';
import { expandHome } from '../writers/paths.js';

/** Where kflog's local CA lives: beside its other state under ~/.kflog (HOME decides, as for the store and logs). */
export const PKI_DIR = '~/.kflog/pki';

export interface PkiPaths {
  /** The folder, mode 0700: it holds the CA's private key. */
  dir: string;
  /** The CA certificate clients trust (curl --cacert, NODE_EXTRA_CA_CERTS, the OS store). */
  rootCert: string;
  /** The CA's private key, mode 0600. */
  rootKey: string;
  /** Leaf certificates issued for listen hosts, one pair per host, reused until they near their end. */
  leafDir: string;
}

/** Caddy's names for the same files (pki/authorities/local/root.crt and root.key), one folder level down. */
export function pkiPaths(): PkiPaths {
  const dir = expandHome(PKI_DIR);
  return { dir, rootCert: join(dir, 'root.crt'), rootKey: join(dir, 'root.key'), leafDir: join(dir, 'leaves') };
}
