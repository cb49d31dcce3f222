import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, parseConfigText } from '../../src/config/load.js';
import { tempDir } from '../helpers/files.js';
import { makeTestPki, type TestPki } from '../helpers/pki.js';

let pki: TestPki;
beforeAll(() => {
  pki = makeTestPki(tempDir('pki').dir);
});

/** The "pointer: reason" lines a config with one https forward and `tls` is refused with ([] when accepted). */
function refusals(tls: Record<string, unknown>): string[] {
  const text = JSON.stringify({ forwards: [{ id: 'a', listen: '127.0.0.1:0', target: { url: 'https://127.0.0.1:9' }, tls }] });
  try {
    parseConfigText(text, 'test.json');
    return [];
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return err.problems.map((p) => `${p.pointer}: ${p.reason}`);
  }
}

describe('a forward\'s upstream tls files at config load', () => {
  it('reads every file of a good block into the forward\'s config', () => {
    const text = JSON.stringify({ forwards: [{ id: 'a', listen: '127.0.0.1:0', target: { url: 'https://127.0.0.1:9' },
      tls: { ca_file: pki.caCert, server_name: 'api.internal', client_cert_file: pki.clientCert, client_key_file: pki.clientKey } }] });
    const tls = parseConfigText(text, 'test.json').forwards[0]!.tls!;
    expect(tls.ca).toContain('-----BEGIN CERTIFICATE-----');
    expect(tls.cert).toContain('-----BEGIN CERTIFICATE-----');
    expect(tls.key).toContain('PRIVATE KEY-----');
    expect(tls).toMatchObject({ servername: 'api.internal', insecureSkipVerify: false });
  });

  it('refuses a client key that is not the key of the client certificate', () => {
    expect(refusals({ client_cert_file: pki.clientCert, client_key_file: pki.leafKey })).toEqual([
      `/forwards/0/tls/client_key_file: ${pki.leafKey} is not the key of the certificate in ${pki.clientCert}`,
    ]);
  });

  it('refuses a client key file that holds no private key', () => {
    expect(refusals({ client_cert_file: pki.clientCert, client_key_file: pki.clientCert })).toEqual([
      expect.stringMatching(/^\/forwards\/0\/tls\/client_key_file: .*client\.crt is not a PEM private key: /),
    ]);
  });

  it('refuses a CA file whose PEM block does not parse', () => {
    const bad = join(tempDir().dir, 'broken.crt');
    writeFileSync(bad, '-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n');
    expect(refusals({ ca_file: bad })).toEqual([expect.stringMatching(/^\/forwards\/0\/tls\/ca_file: .*broken\.crt is not a PEM certificate file: /)]);
  });

  it('gives a changed file a new digest, so a reload builds the target again', () => {
    const dir = tempDir().dir;
    const ca = join(dir, 'ca.crt');
    const digest = (): string => {
      const text = JSON.stringify({ forwards: [{ id: 'a', listen: '127.0.0.1:0', target: { url: 'https://127.0.0.1:9' }, tls: { ca_file: ca } }] });
      return parseConfigText(text, 'test.json').forwards[0]!.tls!.digest;
    };
    writeFileSync(ca, readFileSync(pki.caCert));
    const before = digest();
    expect(digest()).toBe(before);
    writeFileSync(ca, readFileSync(pki.otherCaCert));
    expect(digest()).not.toBe(before);
  });
});
