import { resolve } from 'node:path';

/** A file of the repository that exists everywhere the tests run and is no PEM. */
const NOT_PEM = resolve(import.meta.dirname, '../../package.json');
const https = { ...{ id: 'a', listen: '127.0.0.1:0' }, target: { url: 'https://127.0.0.1:9' } };
/** A certificate and its key committed with the tests (the fake API server's). */
const CERT = resolve(import.meta.dirname, '../proxy/kube/tls/apiserver.crt');
const KEY = resolve(import.meta.dirname, '../proxy/kube/tls/apiserver.key');

/** The bad configs of the test suite, shared by the validate tests and the validate-agrees-with-run test. */
export const ok = { id: 'a', listen: '127.0.0.1:0', target: { url: 'http://127.0.0.1:9' } };

export interface BadConfig {
  name: string;
  config: unknown;
  /** The JSON pointer the message must name. */
  place: string;
  /** A word of the reason. */
  reason: RegExp;
}

/**
 * Every bad config of the test suite, in one table: `kflog validate` must refuse each naming its place, and
 * `kflog run` must refuse the same ones for the same reasons before anything starts.
 */
export const badConfigs: BadConfig[] = [
  { name: 'forwards of the wrong type', config: { forwards: {} }, place: '/forwards', reason: /must be array/ },
  { name: 'no forwards at all', config: {}, place: '/forwards', reason: /required/ },
  { name: 'an unknown top-level key', config: { forwards: [ok], colour: 'red' }, place: '/colour', reason: /unknown key/ },
  { name: 'an unknown key in a forward', config: { forwards: [{ ...ok, lisen: 'x' }] }, place: '/forwards/0/lisen', reason: /unknown key/ },
  { name: 'an unknown key in a writer', config: { forwards: [ok], logging: { logs: { a: { writer: { output: 'stderr', path: 'x' } } } } }, place: '/logging/logs/a/writer/path', reason: /unknown key/ },
  { name: 'a port given as a string of the wrong type', config: { forwards: [{ ...ok, listen: 8080 }] }, place: '/forwards/0/listen', reason: /must be string \(found number 8080\)/ },
  { name: 'duplicate forward ids', config: { forwards: [ok, { ...ok, listen: '127.0.0.1:0' }] }, place: '/forwards/1/id', reason: /duplicate forward id "a"/ },
  { name: 'duplicate listen addresses', config: { forwards: [{ ...ok, listen: '127.0.0.1:18080' }, { ...ok, id: 'b', listen: '127.0.0.1:18080' }] }, place: '/forwards/1/listen', reason: /already used by \/forwards\/0/ },
  { name: 'a wildcard listen after a specific one on its port', config: { forwards: [{ ...ok, listen: '127.0.0.1:18082' }, { ...ok, id: 'b', listen: '0.0.0.0:18082' }] }, place: '/forwards/1/listen', reason: /already used by \/forwards\/0/ },
  { name: 'a wildcard listen clashing with a specific one', config: { forwards: [{ ...ok, listen: '0.0.0.0:18081' }, { ...ok, id: 'b', listen: '127.0.0.1:18081' }] }, place: '/forwards/1/listen', reason: /already used/ },
  { name: 'a bad duration', config: { forwards: [ok], shutdown_timeout: '10 seconds' }, place: '/shutdown_timeout', reason: /duration/ },
  { name: 'a bad sampling interval', config: { forwards: [ok], logging: { logs: { a: { sampling: { interval: 'soon' } } } } }, place: '/logging/logs/a/sampling/interval', reason: /duration/ },
  { name: 'a missing target', config: { forwards: [{ id: 'a', listen: '127.0.0.1:0' }] }, place: '/forwards/0/target', reason: /required/ },
  { name: 'an empty target', config: { forwards: [{ ...ok, target: {} }] }, place: '/forwards/0/target', reason: /exactly one of "url", "builtin" or "kube"/ },
  { name: 'protocols without "h1"', config: { forwards: [{ ...ok, protocols: ['h2', 'h2c'] }] }, place: '/forwards/0/protocols', reason: /"h1" is required/ },
  { name: 'an unknown listener protocol', config: { forwards: [{ ...ok, protocols: ['h1', 'h3'] }] }, place: '/forwards/0/protocols/1', reason: /must be one of "h1", "h2", "h2c"/ },
  { name: 'empty protocols', config: { forwards: [{ ...ok, protocols: [] }] }, place: '/forwards/0/protocols', reason: /fewer than 1 items/ },
  { name: 'a listener protocol named twice', config: { forwards: [{ ...ok, protocols: ['h1', 'h2c', 'h1'] }] }, place: '/forwards/0/protocols', reason: /duplicate items/ },
  { name: 'an unknown upstream version', config: { forwards: [{ ...ok, versions: ['3'] }] }, place: '/forwards/0/versions/0', reason: /must be one of "1\.1", "2", "h2c"/ },
  { name: 'two upstream versions', config: { forwards: [{ ...https, versions: ['1.1', '2'] }] }, place: '/forwards/0/versions', reason: /more than 1 items/ },
  { name: 'versions ["2"] on an http:// target', config: { forwards: [{ ...ok, versions: ['2'] }] }, place: '/forwards/0/versions/0', reason: /only an https:\/\/ url target/ },
  { name: 'versions ["h2c"] on an https:// target', config: { forwards: [{ ...https, versions: ['h2c'] }] }, place: '/forwards/0/versions/0', reason: /"h2c" is HTTP\/2 in cleartext/ },
  { name: 'versions ["h2c"] on the builtin echo', config: { forwards: [{ ...ok, target: { builtin: 'echo' }, versions: ['h2c'] }] }, place: '/forwards/0/versions/0', reason: /speaks HTTP\/1\.1 only/ },
  { name: 'two targets at once', config: { forwards: [{ ...ok, target: { url: 'http://x', builtin: 'echo' } }] }, place: '/forwards/0/target', reason: /exactly one/ },
  { name: 'a port out of range', config: { forwards: [{ ...ok, listen: '127.0.0.1:70000' }] }, place: '/forwards/0/listen', reason: /out of range/ },
  { name: 'a listen address without a port', config: { forwards: [{ ...ok, listen: 'localhost' }] }, place: '/forwards/0/listen', reason: /host:port/ },
  { name: 'a target url that is not http', config: { forwards: [{ ...ok, target: { url: 'ftp://x' } }] }, place: '/forwards/0/target/url', reason: /http/ },
  { name: 'an unknown encoder format', config: { forwards: [ok], logging: { logs: { a: { encoder: { format: 'xml' } } } } }, place: '/logging/logs/a/encoder/format', reason: /must be one of/ },
  { name: 'an unknown log level', config: { forwards: [ok], logging: { logs: { a: { level: 'loud' } } } }, place: '/logging/logs/a/level', reason: /must be one of/ },
  { name: 'a bad forward id', config: { forwards: [{ ...ok, id: 'Has Space' }] }, place: '/forwards/0/id', reason: /lower-case/ },
  { name: 'an unknown filename placeholder', config: { forwards: [ok], logging: { logs: { a: { writer: { output: 'file', filename: 'x/{forward.name}.log' } } } } }, place: '/logging/logs/a/writer/filename', reason: /unknown placeholder/ },
  { name: 'a file writer without filename', config: { forwards: [ok], logging: { logs: { a: { writer: { output: 'file' } } } } }, place: '/logging/logs/a/writer/filename', reason: /required/ },
  { name: 'a negative body limit', config: { forwards: [{ ...ok, capture: { max_body_bytes: -1 } }] }, place: '/forwards/0/capture/max_body_bytes', reason: /must be >= 0/ },
  { name: 'a kube target naming both a service and a pod', config: { forwards: [{ ...ok, target: { kube: { service: 's', pod: 'p', port: 80 } } }] }, place: '/forwards/0/target/kube', reason: /exactly one of "service", "pod" or "selector"/ },
  { name: 'a filter on a field that does not exist', config: { forwards: [ok], logging: { logs: { f: { encoder: { format: 'filter', wrap: { format: 'json' }, fields: { 'request>nosuch': { filter: 'delete' } } } } } } }, place: '/logging/logs/f/encoder/fields/request>nosuch', reason: /unknown field "nosuch"/ },
  { name: 'no listener processes', config: { forwards: [ok], listener_processes: 0 }, place: '/listener_processes', reason: /must be >= 1/ },
  { name: 'log shorthand of the wrong type', config: { forwards: [{ ...ok, log: true }] }, place: '/forwards/0/log', reason: /must be/ },
  { name: 'an unknown format in a forward log shorthand', config: { forwards: [{ ...ok, log: { format: 'har' } }] }, place: '/forwards/0/log/format', reason: /must be one of "json", "console"/ },
  { name: 'retries given as a string', config: { forwards: [{ ...ok, retries: '3' }] }, place: '/forwards/0/retries', reason: /must be integer \(found string "3"\)/ },
  { name: 'a misspelt timeouts key', config: { forwards: [{ ...ok, tiemouts: {} }] }, place: '/forwards/0/tiemouts', reason: /unknown key/ },
  { name: 'a filter with a bad regexp', config: { forwards: [ok], logging: { logs: { f: { encoder: { format: 'filter', wrap: { format: 'json' }, fields: { 'request>uri': { filter: 'regexp', regexp: '(', value: '' } } } } } } }, place: '/logging/logs/f/encoder/fields/request>uri', reason: /bad regexp/ },
  { name: 'an unknown syslog facility', config: { forwards: [ok], logging: { logs: { a: { writer: { output: 'syslog', address: 'udp/127.0.0.1:514', facility: 'local9' } } } } }, place: '/logging/logs/a/writer/facility', reason: /must be one of/ },
  // What only run used to refuse: writer options their module judges, listen hosts, placeholders everywhere.
  { name: 'a roll interval under the file writer\'s 1s minimum', config: { forwards: [ok], logging: { logs: { a: { writer: { output: 'file', filename: 'x.log', roll_interval: '500ms' } } } } }, place: '/logging/logs/a/writer/roll_interval', reason: /at least 1s/ },
  { name: 'a roll interval under 1s in a forward log shorthand', config: { forwards: [{ ...ok, log: { format: 'json', writer: { output: 'file', filename: 'x.log', roll_interval: '10ms' } } }] }, place: '/forwards/0/log/writer/roll_interval', reason: /at least 1s/ },
  { name: 'a roll interval that is no duration', config: { forwards: [ok], logging: { logs: { a: { writer: { output: 'file', filename: 'x.log', roll_interval: 'weekly' } } } } }, place: '/logging/logs/a/writer/roll_interval', reason: /"hourly", "daily" or a duration/ },
  { name: 'a net address with a port out of range', config: { forwards: [ok], logging: { logs: { a: { writer: { output: 'net', address: 'tcp/127.0.0.1:99999' } } } } }, place: '/logging/logs/a/writer/address', reason: /port from 1 to 65535/ },
  { name: 'a unix net address longer than a socket path can be (node would cut it and dial another name)', config: { forwards: [ok], logging: { logs: { a: { writer: { output: 'net', address: `unix//tmp/${'s'.repeat(120)}.sock` } } } } }, place: '/logging/logs/a/writer/address', reason: /a unix socket path has at most \d+ bytes/ },
  { name: 'a long unix syslog address in a forward log shorthand', config: { forwards: [{ ...ok, log: { format: 'json', writer: { output: 'syslog', address: `unix//run/${'s'.repeat(120)}` } } }] }, place: '/forwards/0/log/writer/address', reason: /at most \d+ bytes/ },
  { name: 'a filter wrapping a filter on a field that does not exist', config: { forwards: [ok], logging: { logs: { f: { encoder: { format: 'filter', wrap: { format: 'filter', wrap: { format: 'json' }, fields: { 'request>nosuch': { filter: 'delete' } } } } } } } }, place: '/logging/logs/f/encoder/wrap/fields/request>nosuch', reason: /unknown field "nosuch"/ },
  { name: 'a store writer with another encoder format', config: { forwards: [ok], logging: { logs: { a: { writer: { output: 'store', path: 'x.db' }, encoder: { format: 'json' } } } } }, place: '/logging/logs/a/encoder/format', reason: /takes encoder format "store"/ },
  { name: 'a store max_age that is no duration', config: { forwards: [ok], logging: { logs: { a: { writer: { output: 'store', path: 'x.db', max_age: 'a week' } } } } }, place: '/logging/logs/a/writer/max_age', reason: /pattern|duration/ },
  { name: 'a store max_size_mb of 0', config: { forwards: [ok], logging: { logs: { a: { writer: { output: 'store', path: 'x.db', max_size_mb: 0 } } } } }, place: '/logging/logs/a/writer/max_size_mb', reason: /must be > 0|above 0/ },
  { name: 'a syslog address on port 0', config: { forwards: [ok], logging: { logs: { a: { writer: { output: 'syslog', address: 'udp/127.0.0.1:0' } } } } }, place: '/logging/logs/a/writer/address', reason: /port from 1 to 65535/ },
  { name: 'a listen host that is no IPv4 address', config: { forwards: [{ ...ok, listen: '300.1.1.1:18085' }] }, place: '/forwards/0/listen', reason: /"300\.1\.1\.1" is not an IP address/ },
  { name: 'a listen host that is no host name', config: { forwards: [{ ...ok, listen: 'my_host!:18085' }] }, place: '/forwards/0/listen', reason: /neither an IP address nor a host name/ },
  { name: 'a bracketed listen host that is no IPv6 address', config: { forwards: [{ ...ok, listen: '[1.2.3.4]:18085' }] }, place: '/forwards/0/listen', reason: /not an IPv6 address/ },
  { name: 'a listen host name that does not resolve', config: { forwards: [{ ...ok, listen: 'no-such-host.invalid:18085' }] }, place: '/forwards/0/listen', reason: /does not resolve/ },
  { name: 'an unknown placeholder in a forward log filename', config: { forwards: [{ ...ok, log: { format: 'json', filename: 'logs/{forward.name}.log' } }] }, place: '/forwards/0/log/filename', reason: /unknown placeholder \{forward\.name\}/ },
  { name: 'an unknown placeholder in a forward log writer', config: { forwards: [{ ...ok, log: { format: 'json', writer: { output: 'file', filename: 'logs/{port}.log' } } }] }, place: '/forwards/0/log/writer/filename', reason: /unknown placeholder \{port\}/ },
  // Upstream TLS: read at load, so validate refuses what run would fail on.
  { name: 'tls on an http:// url target', config: { forwards: [{ ...ok, tls: { insecure_skip_verify: true } }] }, place: '/forwards/0/tls', reason: /only for an https:\/\/ url target/ },
  { name: 'tls on a builtin target', config: { forwards: [{ ...ok, target: { builtin: 'echo' }, tls: {} }] }, place: '/forwards/0/tls', reason: /only for an https:\/\/ url target/ },
  { name: 'tls on a kube pod target without server_name', config: { forwards: [{ ...ok, target: { kube: { pod: 'api-0', port: 8443 } }, tls: {} }] }, place: '/forwards/0/tls/server_name', reason: /no cluster DNS name/ },
  { name: 'an unknown key in tls', config: { forwards: [{ ...https, tls: { ca: 'x.pem' } }] }, place: '/forwards/0/tls/ca', reason: /unknown key/ },
  { name: 'a ca_file that does not exist', config: { forwards: [{ ...https, tls: { ca_file: '/nonexistent/kflog-ca.pem' } }] }, place: '/forwards/0/tls/ca_file', reason: /cannot read \/nonexistent\/kflog-ca\.pem: no such file/ },
  { name: 'a ca_file that is a directory', config: { forwards: [{ ...https, tls: { ca_file: resolve(import.meta.dirname) } }] }, place: '/forwards/0/tls/ca_file', reason: /is a directory/ },
  { name: 'a ca_file that holds no PEM certificate', config: { forwards: [{ ...https, tls: { ca_file: NOT_PEM } }] }, place: '/forwards/0/tls/ca_file', reason: /is not a PEM certificate file: no PEM certificate in it/ },
  { name: 'a client key without its certificate', config: { forwards: [{ ...https, tls: { client_key_file: NOT_PEM } }] }, place: '/forwards/0/tls/client_cert_file', reason: /go together/ },
  { name: 'a client certificate file that is no PEM', config: { forwards: [{ ...https, tls: { client_cert_file: NOT_PEM, client_key_file: NOT_PEM } }] }, place: '/forwards/0/tls/client_cert_file', reason: /is not a PEM certificate file/ },
  { name: 'listen_tls neither "internal" nor files', config: { forwards: [{ ...ok, listen_tls: 'external' }] }, place: '/forwards/0/listen_tls', reason: /must/ },
  { name: 'listen_tls files without a key_file', config: { forwards: [{ ...ok, listen_tls: { cert_file: CERT } }] }, place: '/forwards/0/listen_tls/key_file', reason: /required/ },
  { name: 'a listen_tls cert_file that does not exist', config: { forwards: [{ ...ok, listen_tls: { cert_file: '/nonexistent/kflog.crt', key_file: KEY } }] }, place: '/forwards/0/listen_tls/cert_file', reason: /cannot read \/nonexistent\/kflog\.crt: no such file/ },
  { name: 'a listen_tls key_file that is a directory', config: { forwards: [{ ...ok, listen_tls: { cert_file: CERT, key_file: resolve(import.meta.dirname) } }] }, place: '/forwards/0/listen_tls/key_file', reason: /is a directory/ },
  { name: 'a listen_tls cert_file that holds no certificate', config: { forwards: [{ ...ok, listen_tls: { cert_file: NOT_PEM, key_file: KEY } }] }, place: '/forwards/0/listen_tls/cert_file', reason: /is not a PEM certificate file: no PEM certificate in it/ },
  { name: 'a listen_tls key_file that holds no private key', config: { forwards: [{ ...ok, listen_tls: { cert_file: CERT, key_file: CERT } }] }, place: '/forwards/0/listen_tls/key_file', reason: /is not a PEM private key/ },
  { name: 'a listen_tls client_ca_file that holds no certificate', config: { forwards: [{ ...ok, listen_tls: { cert_file: CERT, key_file: KEY, client_ca_file: NOT_PEM } }] }, place: '/forwards/0/listen_tls/client_ca_file', reason: /is not a PEM certificate file/ },
];
