import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { configSchema } from '../../src/config/schema.js';
import { formatSchemaJson } from '../../src/config/schema-format.js';

describe('config.schema.json', () => {
  it('is the schema kflog validates with, byte for byte as `npm run schema` writes it', () => {
    const committed = readFileSync(new URL('../../config.schema.json', import.meta.url), 'utf8');
    // On a difference: a module's options changed without `npm run schema` (or the file was edited by hand).
    expect(committed).toBe(formatSchemaJson(configSchema()));
  });
});
