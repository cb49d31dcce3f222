import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';

const schema = JSON.parse(readFileSync(new URL('../../config.schema.json', import.meta.url), 'utf8')) as object;
const ajv = new Ajv2020({ allErrors: true, strict: false });
addFormats.default(ajv);
ajv.addFormat('duration', /^\d+(ms|s|m|h)$/);
ajv.addFormat('http-url', /^https?:\/\//);
ajv.addFormat('listen-address', /^(\[[0-9a-f:.]+\]|[^:\s]+):\d{1,5}$/i);
const validate = ajv.compile(schema);

/** Problems of a config against config.schema.json, as "pointer: message" strings ([] when valid). */
export function validateAgainstSchema(config: unknown): string[] {
  if (validate(config)) return [];
  return (validate.errors ?? []).map((e) => `${e.instancePath}: ${e.message}`);
}
