import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { LocalCaError, localRoot } from '../pki/local-ca.js';
import { shellQuote } from './shell-quote.js';

/**
 * `kflog ca`: where kflog's local CA certificate is (the root of every `listen_tls: "internal"` certificate) and
 * how to trust it. The CA is made when there is none yet, as `caddy trust` makes Caddy's: trusting it is usually
 * done before the first https forward runs, and the answer is then a path that exists.
 */

/** The commands that make curl, node and the OS trust the root at `path`. */
function trustCommands(path: string): Record<'curl' | 'node' | 'debian' | 'macos', string> {
  const p = shellQuote(path);
  return {
    curl: `curl --cacert ${p} https://127.0.0.1:PORT/`,
    node: `export NODE_EXTRA_CA_CERTS=${p}`,
    debian: `sudo cp ${p} /usr/local/share/ca-certificates/kflog-local-ca.crt && sudo update-ca-certificates`,
    macos: `sudo security add-trusted-cert -d -r trustRoot -k /Library/Keychains/System.keychain ${p}`,
  };
}

export function caCommand(): Command {
  return new Command('ca')
    .description("print where kflog's local CA certificate is (the root of listen_tls \"internal\" certificates; made now when there is none) and how to trust it: curl --cacert, NODE_EXTRA_CA_CERTS, the OS store")
    .option('--json', 'print it as one JSON object')
    .action(async (opts: { json?: boolean }) => {
      let root;
      try {
        root = await localRoot(true);
      } catch (err) {
        if (!(err instanceof LocalCaError)) throw err;
        process.stderr.write(`kflog: ${err.message}\n`);
        process.exit(1);
      }
      const { paths, created } = root;
      const cert = new X509Certificate(readFileSync(paths.rootCert, 'utf8'));
      const trust = trustCommands(paths.rootCert);
      if (opts.json) {
        process.stdout.write(JSON.stringify({
          cert: paths.rootCert, key: paths.rootKey, created, subject: cert.subject, not_after: new Date(cert.validTo).toISOString(),
          sha256: cert.fingerprint256, trust,
        }) + '\n');
        return;
      }
      process.stdout.write(
        `kflog's local CA certificate: ${paths.rootCert}${created ? ' (made now)' : ''}\n` +
        `  ${cert.subject.replace(/\n/g, ', ')}, valid until ${new Date(cert.validTo).toISOString().slice(0, 10)}, SHA-256 ${cert.fingerprint256}\n` +
        `  its key, ${paths.rootKey} (0600), stays on this machine: anyone who has it can make certificates you trust\n` +
        `It signs the certificate of every forward with "listen_tls": "internal". To trust it:\n` +
        `  curl:           ${trust.curl}\n` +
        `  Node.js:        ${trust.node}\n` +
        `  Debian, Ubuntu: ${trust.debian}\n` +
        `  macOS:          ${trust.macos}\n`,
      );
    });
}
