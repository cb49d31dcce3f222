import { har as validateHar } from 'har-validator';
import type { Har } from 'har-format';

interface AjvError {
  dataPath?: string;
  message?: string;
}

/** What har-validator (the HAR 1.2 schema of har-schema) finds wrong in the document: [] when it is valid. */
export async function harProblems(doc: unknown): Promise<string[]> {
  try {
    await validateHar(doc);
    return [];
  } catch (err) {
    const errors = (err as { errors?: AjvError[] }).errors;
    if (!Array.isArray(errors)) throw err;
    return errors.map((e) => `${e.dataPath ?? ''} ${e.message ?? ''}`);
  }
}

/** HAR's own rules the schema leaves out: send, wait and receive ≥ 0, other phases ≥ -1, time their sum. */
export function timingProblems(doc: Har): string[] {
  const out: string[] = [];
  doc.log.entries.forEach((e, i) => {
    const t = e.timings;
    for (const k of ['send', 'wait', 'receive'] as const) if (!((t[k] ?? -1) >= 0)) out.push(`entry ${i}: ${k} ${t[k]}`);
    for (const k of ['blocked', 'dns', 'connect', 'ssl'] as const) {
      const v = t[k];
      if (v !== undefined && !(v >= -1)) out.push(`entry ${i}: ${k} ${v}`);
    }
    const sum = [t.blocked, t.dns, t.connect, t.send, t.wait, t.receive].reduce<number>((s, v) => s + Math.max(v ?? 0, 0), 0);
    if (sum !== e.time) out.push(`entry ${i}: time ${e.time}, phases add up to ${sum}`);
  });
  return out;
}
