// What config.schema.json says beside the encoder and writer modules' options: src/config/schema.ts adds each
// module's fragment and the "format"/"output" enums and dispatch from the registries.
import type { JsonSchema } from '../core/module-options.js';

export const BASE_SCHEMA: JsonSchema = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'https://kflog.dev/config.schema.json',
  title: 'kflog configuration',
  description: 'kflog.json: the forwards kflog listens on and the logs it writes. Unknown keys are errors.',
  type: 'object',
  additionalProperties: false,
  required: ['forwards'],
  properties: {
    $schema: { type: 'string', description: 'Path or URL of this schema, for editors. Ignored by kflog.' },
    forwards: {
      type: 'array',
      minItems: 1,
      description: 'The listeners: each accepts HTTP/1.1 on `listen` and forwards to `target`.',
      items: { $ref: '#/$defs/forward' },
    },
    logging: { $ref: '#/$defs/logging' },
    shutdown_timeout: {
      $ref: '#/$defs/duration',
      default: '10s',
      description: 'On SIGINT/SIGTERM, how long in-flight exchanges may take to finish before their connections are cut. Default "10s".',
    },
    listener_processes: {
      type: 'integer',
      minimum: 1,
      maximum: 64,
      default: 1,
      description: 'Processes that serve the listeners (default 1). More than 1 forks that many, sharing every listening port through node:cluster, so the proxying uses more than one core; the first process then encodes and writes the logs for all of them, so each file is written by one process in one order and the no-loss accounting stays whole. Changing it takes a restart (SIGHUP keeps the running count).',
    },
    trace_id: {
      enum: ['v7', 'v4'],
      default: 'v7',
      description: 'UUID version of trace IDs: v7 (time-ordered, sorts with the log) or v4 (random). Default "v7".',
    },
    admin: {
      description: 'kflog\'s own HTTP listener: /metrics (Prometheus) and a read-only JSON API of the exchanges (/api/…). Default { "listen": "127.0.0.1:2019" }; false turns it off. It shows captured traffic, so it binds loopback unless a token is set.',
      oneOf: [
        { const: false },
        {
          type: 'object',
          additionalProperties: false,
          properties: {
            listen: {
              type: 'string',
              format: 'listen-address',
              default: '127.0.0.1:2019',
              description: 'host:port to listen on (default "127.0.0.1:2019"). When the default port is taken (another kflog), kflog says so and runs without it; an address written here that cannot be bound fails the start. A host that is not loopback needs `token`.',
            },
            token: {
              type: 'string',
              minLength: 16,
              description: 'When set, every request must carry `Authorization: Bearer <token>`; it also allows a listen address that is not loopback. At least 16 characters.',
            },
          },
        },
      ],
    },
  },
  $defs: {
    duration: {
      type: 'string',
      format: 'duration',
      description: 'A duration such as "250ms", "1s", "1m30s" or "24h" (units ns, us, ms, s, m, h).',
    },
    forward: {
      type: 'object',
      additionalProperties: false,
      required: ['id', 'listen', 'target'],
      description: 'One listener and where its traffic goes.',
      properties: {
        id: {
          type: 'string',
          pattern: '^[a-z0-9][a-z0-9_-]*$',
          maxLength: 63,
          description: "Unique name of the forward: lower-case letters, digits, '-' and '_'. It ends the logger names (http.log.access.<id>) and fills {forward.id} in filenames.",
        },
        listen: {
          type: 'string',
          format: 'listen-address',
          description: 'host:port to listen on, e.g. "127.0.0.1:8080" or "[::1]:8080". Port 0 picks a free port (the chosen one is logged).',
        },
        target: { $ref: '#/$defs/target' },
        tls: { $ref: '#/$defs/upstream_tls' },
        listen_tls: {
          description: "Serve HTTPS on this forward's listen address: a certificate and key from files, or \"internal\" for a certificate issued by kflog's own local CA (kept under ~/.kflog/pki; `kflog ca` prints where its root is and how to trust it), as Caddy's `tls internal`. The files are read, and the internal certificate issued, when the config loads and again on every reload; a file that cannot be read, holds no certificate or no private key, or a key that is not the certificate's, refuses the config. Default: cleartext HTTP.",
          oneOf: [
            { const: 'internal', description: "A leaf certificate for the listen host (IP or DNS name, plus localhost, 127.0.0.1 and ::1), valid 7 days, signed by kflog's local CA: made once (folder 0700, key 0600), reused while it lasts, issued again when less than a third of its life is left: at start, at reload, and by a running kflog at that point." },
            { $ref: '#/$defs/listen_tls_files' },
          ],
        },
        capture: { $ref: '#/$defs/capture' },
        timeouts: { $ref: '#/$defs/timeouts' },
        retries: {
          type: 'integer',
          minimum: 0,
          maximum: 10,
          default: 0,
          description: "Further attempts when the upstream connection cannot be made (refused, unreachable, connect timeout), up to a second apart as HAProxy does. Nothing was sent yet, so any request may be retried. Counted in the access entry's conn.retries. Default 0.",
        },
        abort_on_close: {
          type: 'boolean',
          default: false,
          description: "When a client shuts its write side (half-close: nc -N, shutdown(SHUT_WR)) before its response is complete, abort the upstream request and close, as HAProxy's option abortonclose does; logged CH-- (status 499), or CD-- when the request body was not all sent. Default false: the client still gets and is logged with its response, as from a plain server or HAProxy without abortonclose.",
        },
        protocols: {
          type: 'array',
          items: { enum: ['h1', 'h2', 'h2c'] },
          minItems: 1,
          uniqueItems: true,
          contains: { const: 'h1' },
          default: ['h1', 'h2'],
          description: "The HTTP versions the listener speaks, Caddy's server `protocols`: \"h1\" HTTP/1.1, \"h2\" HTTP/2 over TLS (chosen by ALPN on a TLS listener), \"h2c\" HTTP/2 in cleartext by prior knowledge (curl --http2-prior-knowledge, gRPC clients without TLS), on the same port as HTTP/1.1: a connection that opens with the HTTP/2 preface is served as HTTP/2. h2c is off by default, as in Caddy. \"h1\" is required, as Caddy requires it beside h2 and h2c. Default [\"h1\", \"h2\"].",
        },
        versions: {
          type: 'array',
          items: { enum: ['1.1', '2', 'h2c'] },
          minItems: 1,
          maxItems: 1,
          default: ['1.1'],
          description: "The HTTP version spoken to the upstream, Caddy's reverse_proxy transport `versions`: [\"1.1\"], [\"2\"] (HTTP/2 over TLS, https:// url targets only: the upstream must agree to h2 by ALPN, or the exchange fails with 502 SC--), or [\"h2c\"] (HTTP/2 in cleartext by prior knowledge, for http:// url and kube targets, such as a gRPC server behind a port-forward). Exchanges that reached an HTTP/2 upstream say so in the access entry's upstream.proto. Default [\"1.1\"].",
        },
        skip: {
          type: 'array',
          default: [],
          description: 'Exchanges matching any rule are proxied but not logged (health checks, sensitive endpoints). Within one rule every given field must match.',
          items: { $ref: '#/$defs/skip_rule' },
        },
        log: {
          description: "Per-forward shorthand: an encoder (format plus its options) and optionally a filename; expands into a log named forward.<id> that includes this forward's http.log entries. false turns every http.log entry of this forward off at the source.",
          oneOf: [{ const: false }, { $ref: '#/$defs/forward_log' }],
        },
      },
    },
    target: {
      type: 'object',
      description: 'Where requests go: exactly one of url, builtin or kube.',
      minProperties: 1,
      maxProperties: 1,
      additionalProperties: false,
      properties: {
        url: {
          type: 'string',
          format: 'http-url',
          description: 'Upstream base URL, http:// or https://. Its path, if any, is prefixed to every request path.',
        },
        builtin: {
          enum: ['echo'],
          description: '"echo": the embedded sample API (GET /api/users, POST /echo, GET /status/:code, GET /bytes/:n, GET /delay/:ms), started in-process on a loopback port.',
        },
        kube: { $ref: '#/$defs/kube_target' },
      },
    },
    upstream_tls: {
      type: 'object',
      additionalProperties: false,
      description: "How an https:// url target is dialled, or TLS spoken inside a kube target's port-forward streams to pods that serve HTTPS (Caddy's reverse_proxy http transport tls_* options). The files are read when the config loads and again on every reload; a file that cannot be read or parsed refuses the config. Not for http:// or builtin targets.",
      properties: {
        ca_file: {
          type: 'string',
          minLength: 1,
          description: "PEM file of the CA certificates that may sign the upstream's certificate. They replace the system roots, as Caddy's tls_trusted_ca_certs does. Default: the system roots.",
        },
        server_name: {
          type: 'string',
          minLength: 1,
          description: "The name sent in SNI and checked against the upstream's certificate, as Caddy's tls_server_name. Default: the URL's host; for a kube service target, its cluster DNS name <service>.<namespace>.svc (a pod or selector target needs one).",
        },
        insecure_skip_verify: {
          type: 'boolean',
          default: false,
          description: "Accept any upstream certificate, as Caddy's tls_insecure_skip_verify: kflog warns at start, and every access entry's upstream says tls_insecure. Default false.",
        },
        client_cert_file: {
          type: 'string',
          minLength: 1,
          description: "PEM client certificate presented to the upstream (mTLS, Caddy's tls_client_auth); needs client_key_file.",
        },
        client_key_file: {
          type: 'string',
          minLength: 1,
          description: 'PEM private key of client_cert_file; needs client_cert_file.',
        },
      },
    },
    listen_tls_files: {
      type: 'object',
      additionalProperties: false,
      required: ['cert_file', 'key_file'],
      description: 'The certificate the listener serves and its key, as PEM files (Caddy\'s `tls <cert_file> <key_file>`).',
      properties: {
        cert_file: {
          type: 'string',
          minLength: 1,
          description: 'PEM file of the certificate served: the leaf first, then any intermediates clients need.',
        },
        key_file: {
          type: 'string',
          minLength: 1,
          description: 'PEM private key of the first certificate of cert_file.',
        },
        client_ca_file: {
          type: 'string',
          minLength: 1,
          description: "PEM file of the CAs that may sign a client certificate. Set, the listener asks each client for a certificate and checks one it is given against these (Caddy's client_auth mode verify_if_given): a client without one is still served, one with a certificate these did not sign fails the handshake, and the common name and serial of a checked one are in every entry's request.tls. Default: no certificate is asked for.",
        },
      },
    },
    kube_target: {
      type: 'object',
      additionalProperties: false,
      required: ['port'],
      description: 'A Kubernetes service, pod or label selector reached through a port-forward per upstream connection.',
      properties: {
        kubeconfig: {
          type: 'string',
          description: "Path of the kubeconfig (several joined by ':' are merged, as in $KUBECONFIG). Default: $KUBECONFIG, then ~/.kube/config.",
        },
        context: { type: 'string', description: "Context to use. Default: the kubeconfig's current context." },
        namespace: { type: 'string', description: 'Namespace. Default: the context\'s namespace, then "default".' },
        service: {
          type: 'string',
          minLength: 1,
          description: 'Service name: traffic goes to a Running and Ready pod behind it.',
        },
        pod: { type: 'string', minLength: 1, description: 'Pod name.' },
        selector: {
          type: 'string',
          minLength: 1,
          description: 'Label selector ("app=api,tier=web"): traffic goes to a Running and Ready pod matching it.',
        },
        port: {
          oneOf: [{ type: 'integer', minimum: 1, maximum: 65535 }, { type: 'string', minLength: 1 }],
          description: 'Service port (for service) or container port (for pod/selector), by number or by name.',
        },
      },
      $comment: "Exactly one of service, pod, selector: oneOf fails when none or several branches match. Each branch names its property so that ajv's strictRequired holds.",
      oneOf: [
        { required: ['service'], properties: { service: true } },
        { required: ['pod'], properties: { pod: true } },
        { required: ['selector'], properties: { selector: true } },
      ],
    },
    capture: {
      type: 'object',
      additionalProperties: false,
      description: 'Which bodies to keep for the log. Bodies are always streamed; at most max_body_bytes of each is kept.',
      properties: {
        request_body: { type: 'boolean', default: false, description: 'Keep the request body. Default false.' },
        response_body: { type: 'boolean', default: false, description: 'Keep the response body. Default false.' },
        max_body_bytes: {
          type: 'integer',
          minimum: 0,
          maximum: 1073741824,
          default: 65536,
          description: 'Bytes kept per body; the rest is counted and flagged as truncated. Default 65536.',
        },
      },
    },
    timeouts: {
      type: 'object',
      additionalProperties: false,
      description: 'Timeouts of this forward: upstream connect, response headers and body; client idle.',
      properties: {
        connect: {
          $ref: '#/$defs/duration',
          default: '10s',
          description: 'Time to establish the upstream connection (504 sC-- past it). Default "10s".',
        },
        headers: {
          $ref: '#/$defs/duration',
          default: '60s',
          description: 'Time for the upstream to send response headers (504 sH-- past it). Default "60s".',
        },
        body: {
          $ref: '#/$defs/duration',
          default: '60s',
          description: 'Longest silence between two chunks of the upstream\'s response body (the exchange ends sD--, the client sees a short body). Default "60s".',
        },
        idle: {
          $ref: '#/$defs/duration',
          default: '60s',
          description: 'How long a client connection may stay silent: idle between keep-alive requests (then closed), or sending its request head (then 408 cR--). Default "60s".',
        },
      },
    },
    skip_rule: {
      type: 'object',
      additionalProperties: false,
      minProperties: 1,
      description: 'Exchanges matching every given field are not logged.',
      properties: {
        path_prefix: { type: 'string', description: 'Request path starts with this (e.g. "/healthz").' },
        method: { type: 'string', description: 'Request method, case-insensitive.' },
        status: {
          oneOf: [{ type: 'integer', minimum: 100, maximum: 599 }, { type: 'string', pattern: '^[1-5]xx$' }],
          description: 'Response status, exact (200) or a class ("2xx"). Request entries are kept when only the status would match.',
        },
      },
    },
    logging: {
      type: 'object',
      additionalProperties: false,
      description: 'The logs: each admits entries by logger name, level and sampling, encodes them and writes them.',
      properties: {
        logs: {
          type: 'object',
          description: 'Named logs. "default" always exists (stderr, console, info) unless configured here.',
          propertyNames: { pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]*$' },
          additionalProperties: { $ref: '#/$defs/log' },
        },
        output_deadline: {
          $ref: '#/$defs/duration',
          default: '5s',
          description: 'How long opening an output, writing one batch to it, or closing it may take (default "5s"). Past it the output is reported failed (logger "kflog") and its entries counted as failed; a start or a SIGHUP whose output cannot open in time is refused, and SIGTERM exits within shutdown_timeout plus this.',
        },
        thread: {
          type: 'boolean',
          default: true,
          description: "Encode and write the logs on a thread of their own, so the proxy's thread only hands entries over (default true). false does everything on the proxy's thread: slower under load, simpler to debug.",
        },
      },
    },
    log: {
      type: 'object',
      additionalProperties: false,
      description: 'One log: include/exclude, level and sampling choose entries; encoder formats them; writer writes them.',
      properties: {
        writer: { $ref: '#/$defs/writer' },
        encoder: { $ref: '#/$defs/encoder' },
        level: {
          enum: ['debug', 'info', 'warn', 'error'],
          default: 'info',
          description: 'Minimum level. Default "info".',
        },
        include: {
          type: 'array',
          items: { $ref: '#/$defs/logger_name' },
          default: [],
          description: 'Logger names admitted, by whole dot segments ("http.log" admits http.log.access.users). Empty admits all.',
        },
        exclude: {
          type: 'array',
          items: { $ref: '#/$defs/logger_name' },
          default: [],
          description: 'Logger names rejected. When an include also matches, the longer match wins.',
        },
        sampling: { $ref: '#/$defs/sampling' },
        log_credentials: {
          type: 'boolean',
          default: false,
          description: 'Write Authorization, Proxy-Authorization, Cookie and Set-Cookie in the clear. Default false: they are ["REDACTED"].',
        },
        queue_bytes: {
          type: 'integer',
          minimum: 1024,
          default: 16777216,
          description: "Bound of this log's queue of encoded bytes waiting for the writer; past it entries are dropped and counted. Default 16777216 (16 MiB).",
        },
      },
    },
    logger_name: {
      type: 'string',
      pattern: '^[A-Za-z0-9_*-]+(\\.[A-Za-z0-9_*-]+)*$',
      description: 'A dot-separated logger name or prefix.',
    },
    sampling: {
      type: 'object',
      additionalProperties: false,
      description: "zap's sampler: within each interval, of the entries with the same level and message, keep the first `first`, then every `thereafter`-th.",
      properties: {
        interval: { $ref: '#/$defs/duration', default: '1s', description: 'Window length. Default "1s".' },
        first: {
          type: 'integer',
          minimum: 0,
          default: 100,
          description: 'Entries kept at the start of each window. Default 100.',
        },
        thereafter: {
          type: 'integer',
          minimum: 0,
          default: 100,
          description: 'After `first`, keep every thereafter-th entry; 0 keeps none. Default 100.',
        },
      },
    },
    writer: {
      type: 'object',
      required: ['output'],
      description: "Where a log's bytes go.",
      properties: { output: { description: 'The kind of output.' } },
      unevaluatedProperties: false,
    },
    encoder: { $ref: '#/$defs/encoder_fields', unevaluatedProperties: false },
    forward_log: {
      $ref: '#/$defs/encoder_fields',
      properties: {
        filename: {
          type: 'string',
          minLength: 1,
          description: 'File to write. Default "~/.kflog/http_logs/{forward.id}_{listen.port}.log".',
        },
        writer: { $ref: '#/$defs/writer', description: 'A full writer instead of the default file.' },
        log_credentials: { type: 'boolean', default: false, description: "As a log's log_credentials. Default false." },
      },
      unevaluatedProperties: false,
    },
    encoder_fields: {
      type: 'object',
      required: ['format'],
      description: 'How entries become bytes.',
      properties: { format: { description: 'The log format.' } },
    },
  },
};
