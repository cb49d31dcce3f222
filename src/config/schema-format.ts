// config.schema.json is read by people as much as by editors: objects and arrays that fit on a line stay on one.

/** Width a node's one-line form may take, indentation included. */
const LINE_WIDTH = 120;

/** `value` as JSON, two-space indented, with every object or array that fits in LINE_WIDTH on one line. */
export function formatSchemaJson(value: unknown): string {
  return `${formatNode(value, '', 0)}\n`;
}

/** `value` at `indent`, after `lead` characters of its line (its key). */
function formatNode(value: unknown, indent: string, lead: number): string {
  const inline = oneLine(value);
  if (lead + inline.length <= LINE_WIDTH || value === null || typeof value !== 'object') return inline;
  const inner = `${indent}  `;
  if (Array.isArray(value)) {
    return `[\n${value.map((v) => inner + formatNode(v, inner, inner.length)).join(',\n')}\n${indent}]`;
  }
  const members = Object.entries(value).map(([k, v]) => {
    const key = `${inner}${JSON.stringify(k)}: `;
    return key + formatNode(v, inner, key.length);
  });
  return `{\n${members.join(',\n')}\n${indent}}`;
}

/** JSON on one line, with a space inside braces and after separators, as the hand-written schema was. */
function oneLine(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(oneLine).join(', ')}]`;
  const members = Object.entries(value).map(([k, v]) => `${JSON.stringify(k)}: ${oneLine(v)}`);
  return members.length === 0 ? '{}' : `{ ${members.join(', ')} }`;
}
