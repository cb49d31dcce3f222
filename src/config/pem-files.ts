import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { ConfigProblem } from './validate.js';

/**
 * Reading and checking the PEM files a config names (upstream `tls`, `listen_tls`): each problem names the key's
 * JSON pointer and the reason, so `kflog validate` and `kflog run` refuse the same file the same way.
 */

/** The reason a file cannot be read, in words. */
export function readProblem(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  return e.code === 'ENOENT' ? 'no such file' : e.code === 'EACCES' ? 'permission denied' : e.code === 'EISDIR' ? 'is a directory' : e.message;
}

/** Every PEM certificate in `text`; throws when there is none or one does not parse. */
export function certificates(text: string): X509Certificate[] {
  const blocks = text.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) throw new Error('no PEM certificate in it');
  return blocks.map((b) => new X509Certificate(b));
}

/** Collects the problems of the files read for one block at `at` (a JSON pointer). */
export class PemReader {
  readonly problems: ConfigProblem[] = [];

  constructor(private readonly at: string) {}

  /** The text of `path`, read for `key`; undefined (a problem said) when it cannot be read. */
  read(key: string, path: string): string | undefined {
    try {
      return readFileSync(path, 'utf8');
    } catch (err) {
      this.problem(key, `cannot read ${path}: ${readProblem(err)}`);
      return undefined;
    }
  }

  /** The certificates of `text`, read for `key` from `path`, or undefined (a problem said) when they do not parse. */
  certificates(key: string, path: string, text: string): X509Certificate[] | undefined {
    try {
      return certificates(text);
    } catch (err) {
      this.problem(key, `${path} is not a PEM certificate file: ${(err as Error).message}`);
      return undefined;
    }
  }

  /**
   * A certificate file and its key file, each read and parsed, and the key checked to be the certificate's (the
   * first certificate of the file: the leaf, any chain after it). Undefined when any of that fails.
   */
  pair(certKey: string, certPath: string, keyKey: string, keyPath: string): { cert: string; key: string } | undefined {
    const cert = this.read(certKey, certPath);
    const key = this.read(keyKey, keyPath);
    const leaf = cert === undefined ? undefined : this.certificates(certKey, certPath, cert)?.[0];
    let privateKey: KeyObject | undefined;
    if (key !== undefined) {
      try {
        privateKey = createPrivateKey(key);
      } catch (err) {
        this.problem(keyKey, `${keyPath} is not a PEM private key: ${(err as Error).message}`);
      }
    }
    if (leaf === undefined || privateKey === undefined) return undefined;
    if (!leaf.checkPrivateKey(privateKey)) {
      this.problem(keyKey, `${keyPath} is not the key of the certificate in ${certPath}`);
      return undefined;
    }
    return { cert: cert!, key: key! };
  }

  problem(key: string, reason: string): void {
    this.problems.push({ pointer: `${this.at}/${key}`, reason });
  }
}
