// What encoder and writer modules share: how settings() refuses an option, and reads one with its default.

/**
 * An option an encoder or writer module refuses, with where it sits in the module's options (["roll_interval"],
 * ["fields", "request>uri"]), so the config error points at the key and `kflog validate` says what `kflog run` would.
 */
export class OptionError extends Error {
  constructor(
    readonly path: readonly string[],
    message: string,
  ) {
    super(message);
    this.name = 'OptionError';
  }
}

/**
 * options[key], or `fallback` when it is absent. Throws an OptionError naming the key when it has another type
 * than the fallback, or is not one of `allowed`: the schema refuses both in a config, a caller in code may not.
 */
export function optionOr<T extends string | number | boolean>(
  options: Readonly<Record<string, unknown>>,
  key: string,
  fallback: T,
  allowed?: readonly T[],
): T {
  const value = options[key];
  if (value === undefined) return fallback;
  if (typeof value !== typeof fallback) {
    throw new OptionError([key], `${key} must be a ${typeof fallback} (found ${JSON.stringify(value) ?? typeof value})`);
  }
  if (allowed !== undefined && !allowed.includes(value as T)) {
    throw new OptionError([key], `${key} must be one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}`);
  }
  return value as T;
}

/** A JSON Schema (draft 2020-12) node, as config.schema.json holds them. */
export type JsonSchema = { readonly [keyword: string]: unknown };

/**
 * A module's options as JSON Schema, kept in the module's own file: src/config/schema.ts builds config.schema.json
 * from the registries, placing `options` at $defs.<kind>_<name> (writer_file, encoder_json) with the module's
 * `defaults` as each property's `default`, and dispatching `"output"`/`"format"` to it.
 */
export interface ModuleSchema {
  /** The options beside `output`/`format`: `properties` (no `default`s: they come from the module), `required`. */
  readonly options: JsonSchema;
  /** Definitions only these options refer to, by their $defs key (the filter's field_filter). */
  readonly defs?: Readonly<Record<string, JsonSchema>>;
}
