import { describe, expect, it } from 'vitest';
import { OptionError, type ModuleSchema } from '../../src/core/module-options.js';
import { configSchema } from '../../src/config/schema.js';
import '../../src/modules.js';
import { encoderModules } from '../../src/encoders/registry.js';
import { writerModules } from '../../src/writers/registry.js';

interface Fragment {
  required?: string[];
  properties?: Record<string, { default?: unknown }>;
  allOf?: Array<{ if?: { properties?: Record<string, { const?: unknown }> }; then?: { $ref?: string } }>;
}

// The schema kflog validates with; test/config/schema-file.test.ts holds config.schema.json equal to it.
const schema = configSchema() as { $defs: Record<string, Fragment> };

/** Every `enum` under a property of this name, wherever it sits in the schema. */
function enumsOf(node: unknown, property: string): string[][] {
  if (node === null || typeof node !== 'object') return [];
  const found: string[][] = [];
  for (const [key, value] of Object.entries(node)) {
    const e = (value as { enum?: unknown } | null)?.enum;
    if (key === property && Array.isArray(e)) found.push(e as string[]);
    found.push(...enumsOf(value, property));
  }
  return found;
}

/** A value for each required option a module's fragment may have, so settings() can run with nothing else. */
const REQUIRED_EXAMPLES: Readonly<Record<string, unknown>> = {
  filename: 'logs/x.log',
  address: 'tcp/127.0.0.1:514',
  wrap: { format: 'json' },
};

interface Module {
  readonly name: string;
  readonly schema?: ModuleSchema;
  readonly defaults: Readonly<Record<string, unknown>>;
  settings(options: { [key: string]: unknown }): unknown;
}

const kinds: Array<{ kind: 'encoder' | 'writer'; key: 'format' | 'output'; dispatcher: string; modules: readonly Module[] }> = [
  {
    kind: 'encoder',
    key: 'format',
    dispatcher: 'encoder_fields',
    modules: encoderModules().map((m) => ({ ...m, settings: (o) => m.settings({ format: m.name, ...o }) })),
  },
  {
    kind: 'writer',
    key: 'output',
    dispatcher: 'writer',
    modules: writerModules().map((m) => ({ ...m, settings: (o) => m.settings({ output: m.name, ...o }) })),
  },
];

/** The $defs key the build gives a module's options. */
function defKey(kind: 'encoder' | 'writer', m: Module): string {
  return `${kind}_${m.name}`;
}

function fragmentOf(kind: 'encoder' | 'writer', m: Module): Fragment {
  return m.schema === undefined ? {} : schema.$defs[defKey(kind, m)]!;
}

/** The options a module cannot do without, and nothing else. */
function minimal(kind: 'encoder' | 'writer', m: Module): Record<string, unknown> {
  return Object.fromEntries((fragmentOf(kind, m).required ?? []).map((k) => [k, REQUIRED_EXAMPLES[k]]));
}

/** The fragment's `default`s, by key. */
function schemaDefaults(kind: 'encoder' | 'writer', m: Module): Record<string, unknown> {
  const props = Object.entries(fragmentOf(kind, m).properties ?? {});
  return Object.fromEntries(props.filter(([, p]) => 'default' in p).map(([k, p]) => [k, p.default]));
}

describe('config.schema.json and the registries', () => {
  for (const { kind, key, dispatcher, modules } of kinds) {
    it(`lists exactly the registered ${kind} names in every "${key}" enum`, () => {
      const enums = enumsOf(schema, key);
      expect(enums.length).toBeGreaterThan(0);
      for (const e of enums) expect([...e].sort()).toEqual(modules.map((m) => m.name).sort());
    });

    it(`hands each ${kind} with options its own fragment, and no other`, () => {
      const dispatched = Object.fromEntries(
        (schema.$defs[dispatcher]!.allOf ?? []).map((branch) => [branch.if?.properties?.[key]?.const, branch.then?.$ref]),
      );
      const expected = Object.fromEntries(modules.filter((m) => m.schema !== undefined).map((m) => [m.name, `#/$defs/${defKey(kind, m)}`]));
      expect(dispatched).toEqual(expected);
      for (const m of modules) if (m.schema !== undefined) expect(schema.$defs[defKey(kind, m)], m.name).toBeDefined();
    });
  }

  for (const { kind, modules } of kinds) {
    for (const m of modules) {
      it(`gives the ${kind} "${m.name}" the defaults its settings() applies, each in the schema as its default`, () => {
        expect(schemaDefaults(kind, m)).toEqual(m.defaults);
        // Leaving an option out is the same as giving its default: settings() applies these and no other.
        expect(m.settings(minimal(kind, m))).toEqual(m.settings({ ...minimal(kind, m), ...m.defaults }));
      });

      it(`says in each option's description of the ${kind} "${m.name}" the default settings() applies`, () => {
        const properties = (m.schema?.options.properties ?? {}) as Record<string, { description?: string }>;
        for (const [k, v] of Object.entries(m.defaults)) expect(properties[k]?.description, k).toContain(`Default ${JSON.stringify(v)}`);
      });

      it(`has the ${kind} "${m.name}" refuse an option of the wrong type by its key`, () => {
        for (const k of Object.keys(m.defaults)) {
          let thrown: unknown;
          try {
            m.settings({ ...minimal(kind, m), [k]: { wrong: 'type' } });
          } catch (err) {
            thrown = err;
          }
          expect(thrown, k).toBeInstanceOf(OptionError);
          expect((thrown as OptionError).path, k).toEqual([k]);
          expect((thrown as OptionError).message, k).toContain(k);
        }
      });
    }
  }
});
