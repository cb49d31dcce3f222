import { describe, expect, it } from 'vitest';
import { OptionError } from '../../src/core/module-options.js';
import { configSchema } from '../../src/config/schema.js';
import { schemaProblems } from '../../src/config/validate.js';
import { registerEncoder } from '../../src/encoders/registry.js';
import '../../src/modules.js';

// A module as a new file would add it: registered by name, its options' schema and defaults in the module only.
// Registered before this file's first validation, so the schema kflog compiles has it (each test file has its
// own module graph).
registerEncoder<{ shout: boolean }>({
  name: 'test_shout',
  schema: { options: { properties: { shout: { type: 'boolean', description: 'Upper-case every line. Default false.' } } } },
  defaults: { shout: false },
  settings: (options) => {
    if (options.shout !== undefined && typeof options.shout !== 'boolean') throw new OptionError(['shout'], 'shout must be a boolean');
    return { shout: options.shout === true };
  },
  create: (settings) => ({ encode: (entry) => (settings.shout ? entry.msg.toUpperCase() : entry.msg) + '\n' }),
});

const ok = { id: 'a', listen: '127.0.0.1:0', target: { url: 'http://127.0.0.1:9' } };
const withEncoder = (encoder: object): object => ({ forwards: [ok], logging: { logs: { a: { encoder } } } });

describe('the config schema built from the registries', () => {
  it('gives a newly registered encoder its options fragment with its defaults, its name in the enum and its dispatch', () => {
    const schema = configSchema() as { $defs: Record<string, { properties?: Record<string, { enum?: string[]; default?: unknown }>; allOf?: unknown[] }> };
    expect(schema.$defs.encoder_test_shout!.properties!.shout!.default).toBe(false);
    expect(schema.$defs.encoder_fields!.properties!.format!.enum).toContain('test_shout');
    expect(schema.$defs.encoder_fields!.allOf).toContainEqual({ if: { properties: { format: { const: 'test_shout' } } }, then: { $ref: '#/$defs/encoder_test_shout' } });
  });

  it('accepts a config that uses the new encoder with its options', () => {
    expect(schemaProblems(withEncoder({ format: 'test_shout', shout: true }))).toEqual([]);
  });

  it('refuses an option of the new encoder of the wrong type, naming its place', () => {
    expect(schemaProblems(withEncoder({ format: 'test_shout', shout: 'yes' }))).toContainEqual(
      expect.objectContaining({ pointer: '/logging/logs/a/encoder/shout' }),
    );
  });

  it('refuses a key the new encoder does not have', () => {
    expect(schemaProblems(withEncoder({ format: 'test_shout', whisper: true }))).toContainEqual({ pointer: '/logging/logs/a/encoder/whisper', reason: 'unknown key "whisper"' });
  });
});
