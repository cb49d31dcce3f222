import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import '../../src/encoders/index.js';
import { encoderFormats } from '../../src/encoders/registry.js';
import '../../src/writers/index.js';
import { writerOutputs } from '../../src/writers/registry.js';

const schema = JSON.parse(readFileSync(new URL('../../config.schema.json', import.meta.url), 'utf8')) as unknown;

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

describe('config.schema.json and the registries', () => {
  it('lists exactly the registered encoder formats', () => {
    const enums = enumsOf(schema, 'format');
    expect(enums.length).toBeGreaterThan(0);
    for (const e of enums) expect([...e].sort()).toEqual(encoderFormats().sort());
  });

  it('lists exactly the registered writer outputs', () => {
    const enums = enumsOf(schema, 'output');
    expect(enums.length).toBeGreaterThan(0);
    for (const e of enums) expect([...e].sort()).toEqual(writerOutputs().sort());
  });
});
