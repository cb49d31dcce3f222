import type { SchemaObject } from 'ajv';

/**
 * The lines the json format writes with its default settings (src/encoders/json.ts, docs/formats.md), as JSON
 * Schema: a request entry, an access entry, or one of kflog's own messages. Every object is closed
 * (additionalProperties: false) and every field the encoder always writes is required, so a line of another
 * program (Caddy's access log has client_ip and no trace_id) is told from kflog's.
 */

const LEVEL = { enum: ['debug', 'info', 'warn', 'error'] };
const COUNT = { type: 'integer', minimum: 0 };
const INTEGER = { type: 'integer' };
const TEXT = { type: 'string' };

const HEADERS = { type: 'object', additionalProperties: { type: 'array', items: TEXT } };

const BODY = {
  type: 'object',
  additionalProperties: false,
  required: ['bytes', 'truncated'],
  properties: { bytes: COUNT, text: TEXT, base64: TEXT, truncated: { type: 'boolean' }, content_type: TEXT, decoded_from: TEXT },
};

const REQUEST = {
  type: 'object',
  additionalProperties: false,
  required: ['remote_ip', 'remote_port', 'proto', 'method', 'host', 'uri', 'headers'],
  properties: {
    remote_ip: TEXT, remote_port: TEXT, proto: TEXT, method: TEXT, host: TEXT, uri: TEXT, headers: HEADERS, body: BODY, raw_line: TEXT,
    // The trace ID a replayed request replays (kflog replay), written as text.
    replay_of: TEXT,
    tls: {
      type: 'object',
      additionalProperties: false,
      required: ['resumed', 'version', 'cipher_suite', 'proto', 'server_name'],
      properties: {
        resumed: { type: 'boolean' }, version: COUNT, cipher_suite: COUNT, proto: TEXT, server_name: TEXT,
        client_common_name: TEXT, client_serial: TEXT,
      },
    },
  },
};

const FORWARD = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'listen_port', 'backend'],
  properties: { id: TEXT, listen_port: COUNT, backend: TEXT },
};

function closed(fields: readonly string[], type: object): object {
  return { type: 'object', additionalProperties: false, required: fields, properties: Object.fromEntries(fields.map((f) => [f, type])) };
}

/** The four keys every line begins with (Caddy's, zap's production config). */
const HEAD = { level: LEVEL, ts: { type: 'number' }, logger: TEXT, msg: TEXT };

export const REQUEST_LINE: SchemaObject = {
  type: 'object',
  additionalProperties: false,
  required: ['level', 'ts', 'logger', 'msg', 'request', 'trace_id', 'forward'],
  properties: { ...HEAD, logger: { type: 'string', pattern: '^http\\.log\\.request\\.' }, request: REQUEST, trace_id: TEXT, forward: FORWARD },
};

export const ACCESS_LINE: SchemaObject = {
  type: 'object',
  additionalProperties: false,
  required: [
    'level', 'ts', 'logger', 'msg', 'request', 'bytes_read', 'user_id', 'duration', 'size', 'status', 'resp_headers',
    'trace_id', 'forward', 'upstream', 'timings', 'termination_state', 'conn', 'start', 'bytes_sent',
  ],
  properties: {
    ...HEAD,
    logger: { type: 'string', pattern: '^http\\.log\\.access\\.' },
    request: REQUEST,
    bytes_read: COUNT,
    user_id: TEXT,
    // Seconds: the json format's default duration_format.
    duration: { type: 'number', minimum: 0 },
    size: COUNT,
    status: COUNT,
    resp_headers: HEADERS,
    resp_body: BODY,
    trace_id: TEXT,
    forward: FORWARD,
    upstream: { type: 'object', additionalProperties: false, required: ['address'], properties: { address: TEXT, pod: TEXT, tls_insecure: { type: 'boolean' }, proto: TEXT } },
    timings: closed(['tq', 'tw', 'tc', 'tr', 'tt'], { ...INTEGER, minimum: -1 }),
    termination_state: TEXT,
    conn: closed(['actconn', 'feconn', 'beconn', 'srv_conn', 'retries'], COUNT),
    start: { type: 'number' },
    bytes_sent: COUNT,
    error: TEXT,
    tunnel: closed(['bytes_in', 'bytes_out'], COUNT),
  },
};

/** kflog's own messages: logger "kflog", or "kube.portforward.<forward>" for Kubernetes events; any fields after. */
export const PROCESS_LINE: SchemaObject = {
  type: 'object',
  required: ['level', 'ts', 'logger', 'msg'],
  properties: { ...HEAD, logger: { type: 'string', pattern: '^(kflog|kube\\.portforward\\..+)$' } },
};
