// config.schema.json is built, not written: the base (schema-base.ts) plus, from the registries, each encoder's and
// writer's own fragment and the "format"/"output" enums and dispatch. Adding a module then changes no schema text
// by hand; `npm run schema` writes the result to config.schema.json for editors, and a test holds the two equal.
import type { JsonSchema, ModuleSchema } from '../core/module-options.js';
import { encoderModules } from '../encoders/registry.js';
import '../modules.js';
import { writerModules } from '../writers/registry.js';
import { BASE_SCHEMA } from './schema-base.js';

/** What the builder needs of an encoder or a writer module. */
interface SchemaModule {
  readonly name: string;
  readonly schema?: ModuleSchema;
  readonly defaults: Readonly<Record<string, unknown>>;
}

/** One kind of module: the $defs entry that dispatches on `key`, and the prefix of its modules' $defs keys. */
interface ModuleKind {
  readonly dispatcher: string;
  readonly key: 'format' | 'output';
  readonly prefix: string;
  readonly modules: readonly SchemaModule[];
}

function kinds(): ModuleKind[] {
  return [
    { dispatcher: 'encoder_fields', key: 'format', prefix: 'encoder_', modules: encoderModules() },
    { dispatcher: 'writer', key: 'output', prefix: 'writer_', modules: writerModules() },
  ];
}

/** The module's options with its defaults as the properties' `default`s: stated once, in the module. */
function withDefaults(m: SchemaModule, options: JsonSchema): JsonSchema {
  const properties = { ...((options.properties ?? {}) as Record<string, JsonSchema>) };
  for (const [key, value] of Object.entries(m.defaults)) {
    const property = properties[key];
    if (property === undefined) throw new Error(`module "${m.name}" has a default for "${key}", which its schema lacks`);
    properties[key] = { ...property, default: value };
  }
  return { ...options, properties };
}

/** config.schema.json as the registered modules make it. */
export function configSchema(): JsonSchema {
  const base = BASE_SCHEMA as { $defs: Record<string, JsonSchema> } & JsonSchema;
  const defs: Record<string, JsonSchema> = { ...base.$defs };
  const define = (key: string, node: JsonSchema): void => {
    if (key in defs) throw new Error(`config schema: $defs.${key} defined twice`);
    defs[key] = node;
  };
  for (const kind of kinds()) {
    const dispatcher = defs[kind.dispatcher]! as { properties: Record<string, JsonSchema> } & JsonSchema;
    const branches: JsonSchema[] = [];
    for (const m of kind.modules) {
      if (m.schema === undefined) continue;
      const key = `${kind.prefix}${m.name}`;
      define(key, withDefaults(m, m.schema.options));
      for (const [defKey, def] of Object.entries(m.schema.defs ?? {})) define(defKey, def);
      branches.push({ if: { properties: { [kind.key]: { const: m.name } } }, then: { $ref: `#/$defs/${key}` } });
    }
    const keyProperty = { enum: kind.modules.map((m) => m.name), ...dispatcher.properties[kind.key] };
    defs[kind.dispatcher] = {
      ...dispatcher,
      properties: { ...dispatcher.properties, [kind.key]: keyProperty },
      ...(branches.length > 0 ? { allOf: branches } : {}),
    };
  }
  return { ...base, $defs: defs };
}
