import { schemaProblems, semanticProblems } from '../../src/config/validate.js';

/** Problems kflog itself finds in a config (schema, then semantics), as "pointer: reason" ([] when valid). */
export function validateAgainstSchema(config: unknown): string[] {
  const problems = [...schemaProblems(config)];
  if (problems.length === 0) problems.push(...semanticProblems(config as Parameters<typeof semanticProblems>[0]));
  return problems.map((p) => `${p.pointer}: ${p.reason}`);
}
