import { OptionError } from './module-options.js';

/**
 * Modules by name, as each encoder or writer registers itself at import (src/modules.ts imports them all), so
 * adding one never touches the pipeline. `kind` and `key` word the errors: "unknown encoder format …" at
 * ["format"], "unknown writer output …" at ["output"].
 */
export class ModuleRegistry<M extends { readonly name: string }> {
  private readonly modules = new Map<string, M>();

  constructor(
    private readonly kind: string,
    private readonly key: string,
  ) {}

  /** Called once by each module at import; a name taken twice is a bug in kflog, not a config error. */
  register(module: M): void {
    if (this.modules.has(module.name)) throw new Error(`${this.kind} "${module.name}" registered twice`);
    this.modules.set(module.name, module);
  }

  /** Every registered module, in registration order: config.schema.json must list exactly these (a test holds it). */
  all(): readonly M[] {
    return [...this.modules.values()];
  }

  find(name: string): M | undefined {
    return this.modules.get(name);
  }

  /** The module a config names; an OptionError at `key` listing the known names when there is none. */
  named(name: string): M {
    const module = this.modules.get(name);
    if (!module) throw new OptionError([this.key], `unknown ${this.kind} ${this.key} "${name}" (known: ${[...this.modules.keys()].join(', ')})`);
    return module;
  }
}
