import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Certificates made by the real openssl CLI for a test, as PEM file paths in `dir`. */
export interface TestPki {
  dir: string;
  /** The CA that signs the server leaves. */
  caCert: string;
  /** A second CA, which signs nothing the upstream serves (an "unknown CA" to trust instead). */
  otherCaCert: string;
  /** Leaf for 127.0.0.1 and localhost, signed by caCert. */
  leafCert: string;
  leafKey: string;
  /** Leaf for "api.internal" only, signed by caCert (a name other than the address dialled). */
  namedCert: string;
  namedKey: string;
  /** Leaf for 127.0.0.1 and localhost that expired before the test ran. */
  expiredCert: string;
  expiredKey: string;
  /** CA of client certificates, and a client certificate it signed. */
  clientCaCert: string;
  clientCert: string;
  clientKey: string;
}

/** openssl waits for nothing but its files; 20 s is far beyond a key generation's time. */
const OPENSSL_DEADLINE_MS = 20_000;

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'pipe', timeout: OPENSSL_DEADLINE_MS });
}

function ca(dir: string, name: string): void {
  openssl(dir, ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${name}.key`,
    '-out', `${name}.crt`, '-days', '2', '-subj', `/CN=${name}`,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
}

/** A leaf signed by `caName`; `expired` backdates it (openssl x509 -not_before/-not_after need 3.4, so -days -1 is avoided). */
function leaf(dir: string, name: string, caName: string, san: string, usage: string, expired = false): void {
  openssl(dir, ['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${name}.key`,
    '-out', `${name}.csr`, '-subj', `/CN=${name}`]);
  const ext = `${name}.ext`;
  writeFileSync(join(dir, ext), `subjectAltName=${san}\nextendedKeyUsage=${usage}\nbasicConstraints=CA:FALSE\n`);
  if (expired) {
    // openssl ca takes explicit dates: a validity that ended a day ago.
    const day = 86_400_000;
    const asn1 = (ms: number): string => new Date(ms).toISOString().replace(/[-:T]/g, '').slice(0, 14) + 'Z';
    writeFileSync(join(dir, 'index.txt'), '');
    writeFileSync(join(dir, 'ca.cnf'),
      `[ca]\ndefault_ca=d\n[d]\ndatabase=index.txt\nnew_certs_dir=.\nserial=serial\ndefault_md=sha256\npolicy=p\nunique_subject=no\n[p]\ncommonName=supplied\n`);
    writeFileSync(join(dir, 'serial'), '01\n');
    openssl(dir, ['ca', '-batch', '-config', 'ca.cnf', '-cert', `${caName}.crt`, '-keyfile', `${caName}.key`,
      '-in', `${name}.csr`, '-out', `${name}.crt`, '-notext', '-extfile', ext,
      '-startdate', asn1(Date.now() - 3 * day), '-enddate', asn1(Date.now() - day)]);
    return;
  }
  openssl(dir, ['x509', '-req', '-in', `${name}.csr`, '-CA', `${caName}.crt`, '-CAkey', `${caName}.key`,
    '-CAcreateserial', '-out', `${name}.crt`, '-days', '2', '-extfile', ext]);
}

/** Makes every certificate of TestPki in `dir`. */
export function makeTestPki(dir: string): TestPki {
  ca(dir, 'ca');
  ca(dir, 'other-ca');
  ca(dir, 'client-ca');
  const local = 'IP:127.0.0.1,DNS:localhost';
  leaf(dir, 'leaf', 'ca', local, 'serverAuth');
  leaf(dir, 'named', 'ca', 'DNS:api.internal', 'serverAuth');
  leaf(dir, 'expired', 'ca', local, 'serverAuth', true);
  leaf(dir, 'client', 'client-ca', 'DNS:kflog-client', 'clientAuth');
  const p = (f: string): string => join(dir, f);
  return {
    dir,
    caCert: p('ca.crt'),
    otherCaCert: p('other-ca.crt'),
    leafCert: p('leaf.crt'),
    leafKey: p('leaf.key'),
    namedCert: p('named.crt'),
    namedKey: p('named.key'),
    expiredCert: p('expired.crt'),
    expiredKey: p('expired.key'),
    clientCaCert: p('client-ca.crt'),
    clientCert: p('client.crt'),
    clientKey: p('client.key'),
  };
}

/** One more server leaf signed by the pki's CA, for the names `san` gives ("DNS:api.default.svc"). */
export function signedLeaf(pki: TestPki, name: string, san: string): { cert: string; key: string } {
  leaf(pki.dir, name, 'ca', san, 'serverAuth');
  return { cert: join(pki.dir, `${name}.crt`), key: join(pki.dir, `${name}.key`) };
}
