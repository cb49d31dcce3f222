import type { Entry } from '../core/entry.js';
import type { LineParts } from './pieces.js';
import type { ModuleSchema } from '../core/module-options.js';

/**
 * One log format. encode() runs on the proxy's hot path, synchronously, once per admitted entry: it must be fast
 * and must never throw for any entry a client can cause. null means "this format has no line for this entry"
 * (a line format seeing a request entry, or a process entry in clf/haproxy).
 */
export interface Encoder {
  encode(entry: Entry): string | Buffer | null;
  /**
   * Optional, for formats that show captured bodies: the bytes encode() gives, as parts to write one after
   * another (pieces.ts), so a big body is copied once, into the log's buffer, and not first into a flat copy of
   * its whole line. The log calls this instead of encode() when it is there.
   */
  encodeParts?(entry: Entry): string | LineParts | Buffer | null;
  /**
   * How many entries the output for `entry` stands for, when that is not 1. kftray writes the block of a request
   * with a body together with its response, from the access entry (2), and has nothing for that request entry
   * (0: written later, not skipped). The log counts by it, so its `written` is what is in the file.
   */
  entriesIn?(entry: Entry): number;
}

/** What every encoder may know about the log it serves. */
export interface EncoderContext {
  /** The log set "log_credentials": true — Authorization, Cookie and friends are written in the clear. */
  logCredentials: boolean;
  /** The log's writer is a terminal (colours allowed). */
  isTTY: boolean;
}

/** Options as validated by config.schema.json: the encoder object minus nothing (format included). */
export type EncoderOptions = { format: string } & Record<string, unknown>;

/**
 * What one format's file gives the registry (as a Caddy module does): its name, its options' schema, their
 * defaults, how options become settings and settings an encoder. settings() runs when the config is loaded, so
 * `kflog validate` and `kflog run` refuse the same options; create() runs when a log opens.
 */
export interface EncoderModule<S> {
  /** `"format": name` in a config; config.schema.json's format enum lists every registered name. */
  readonly name: string;
  /**
   * Its options as JSON Schema, absent when it takes none: config.schema.json is built with them at
   * $defs.encoder_<name> (encoder_json), so a module's options are described in its own file only.
   */
  readonly schema?: ModuleSchema;
  /**
   * Every default settings() applies, in the config's spelling, each stated here once with its reason:
   * config.schema.json's build gives them to the schema's properties as their `default`s.
   */
  readonly defaults: Readonly<Record<string, unknown>>;
  /** Pure: options with the defaults applied. Throws an OptionError naming the key kflog cannot use. */
  settings(options: EncoderOptions): S;
  create(settings: S, ctx: EncoderContext): Encoder;
  /** Text a file written in this format must begin with (REST Client's variable declarations), or undefined. */
  fileHeader?(settings: S): string | undefined;
}
