import { randomBytes, webcrypto } from 'node:crypto';
import { isIP } from 'node:net';

/**
 * Issuing certificates. node:crypto verifies X.509 but cannot write it; @peculiar/x509 does, in pure TypeScript on
 * node's WebCrypto (keys and signatures are node's own native code). It needs a Reflect metadata polyfill for its
 * dependency injection, so both are loaded here, on first use: a kflog without `listen_tls: "internal"` loads neither.
 */

type X509 = typeof import('@peculiar/x509');

let loaded: Promise<X509> | undefined;

function x509(): Promise<X509> {
  loaded ??= (async () => {
    await import('reflect-metadata');
    const lib = await import('@peculiar/x509');
    lib.cryptoProvider.set(webcrypto as unknown as Crypto);
    return lib;
  })();
  return loaded;
}

/** ECDSA P-256 with SHA-256, as Caddy's local CA uses: small keys, fast handshakes, accepted by every client. */
const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

/** A minute back, so a client whose clock is a little behind still accepts a certificate issued just now. */
const BACKDATE_MS = 60_000;

export interface IssuedPem {
  cert: string;
  /** PKCS#8 PEM. */
  key: string;
}

/** A positive 127-bit serial (RFC 5280 §4.1.2.2: at most 20 octets, positive), unique with overwhelming odds. */
function serialNumber(): string {
  const bytes = randomBytes(16);
  bytes[0] = bytes[0]! & 0x7f;
  return bytes.toString('hex');
}

async function keyPem(key: CryptoKey): Promise<string> {
  const der = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', key as webcrypto.CryptoKey));
  return `-----BEGIN PRIVATE KEY-----\n${der.toString('base64').replace(/.{1,64}/g, '$&\n')}-----END PRIVATE KEY-----\n`;
}

function newKeys(): Promise<CryptoKeyPair> {
  return webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify']) as Promise<CryptoKeyPair>;
}

/** A self-signed CA certificate and its key, valid for `days`. */
export async function issueRoot(commonName: string, days: number): Promise<IssuedPem> {
  const lib = await x509();
  const keys = await newKeys();
  const now = Date.now();
  const cert = await lib.X509CertificateGenerator.createSelfSigned({
    serialNumber: serialNumber(),
    name: [{ CN: [commonName] }],
    notBefore: new Date(now - BACKDATE_MS),
    notAfter: new Date(now + days * 86_400_000),
    keys,
    signingAlgorithm: ALGORITHM,
    extensions: [
      // pathLen 0: it signs leaves only, as kflog never makes an intermediate.
      new lib.BasicConstraintsExtension(true, 0, true),
      new lib.KeyUsagesExtension(lib.KeyUsageFlags.keyCertSign | lib.KeyUsageFlags.cRLSign, true),
      await lib.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { cert: cert.toString('pem') + '\n', key: await keyPem(keys.privateKey) };
}

/**
 * A server certificate for `names` (IP addresses get IP SANs, the rest DNS SANs), signed by the CA `ca`, valid from
 * `now` (less the backdating) for `lifetimeMs`.
 */
export async function issueLeaf(ca: IssuedPem, names: readonly string[], lifetimeMs: number, now = Date.now()): Promise<IssuedPem> {
  const lib = await x509();
  const caCert = new lib.X509Certificate(ca.cert);
  const der = Buffer.from(ca.key.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
  const signingKey = await webcrypto.subtle.importKey('pkcs8', der, ALGORITHM, false, ['sign']);
  const keys = await newKeys();
  const cert = await lib.X509CertificateGenerator.create({
    serialNumber: serialNumber(),
    subject: [{ CN: [names[0] ?? 'localhost'] }],
    issuer: caCert.subject,
    notBefore: new Date(now - BACKDATE_MS),
    notAfter: new Date(now + lifetimeMs),
    signingKey: signingKey as unknown as CryptoKey,
    publicKey: keys.publicKey,
    signingAlgorithm: ALGORITHM,
    extensions: [
      new lib.SubjectAlternativeNameExtension(names.map((n) => (isIP(n) !== 0 ? { type: 'ip' as const, value: n } : { type: 'dns' as const, value: n }))),
      new lib.BasicConstraintsExtension(false, undefined, true),
      new lib.KeyUsagesExtension(lib.KeyUsageFlags.digitalSignature, true),
      new lib.ExtendedKeyUsageExtension([lib.ExtendedKeyUsage.serverAuth]),
      await lib.AuthorityKeyIdentifierExtension.create(caCert, false),
    ],
  });
  return { cert: cert.toString('pem') + '\n', key: await keyPem(keys.privateKey) };
}
