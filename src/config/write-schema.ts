// `npm run schema`: writes config.schema.json, the file editors and `"$schema"` references read, from the schema
// kflog validates with (built from the registries). test/config/schema-file.test.ts fails while the two differ.
import { writeFileSync } from 'node:fs';
import { configSchema } from './schema.js';
import { formatSchemaJson } from './schema-format.js';
import { schemaFile } from './validate.js';

writeFileSync(schemaFile(), formatSchemaJson(configSchema()));
console.log(`wrote ${schemaFile()}`);
