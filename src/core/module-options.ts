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
