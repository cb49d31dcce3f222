/** The part of har-validator's API the HAR tests use (the package ships no types). */
declare module 'har-validator' {
  /** Resolves with the document when it is valid HAR; rejects with a HARError listing ajv 6's errors. */
  export function har(data: unknown): Promise<unknown>;
}
