import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openStoreForWriting, type StoreDb } from '../../src/writers/store-db.js';
import { rowWriter } from '../../src/writers/store-rows.js';
import { tempDir } from '../helpers/files.js';
import { accessEntry, requestEntry, requestInfo } from '../helpers/entries.js';

function exchange(n: number): [ReturnType<typeof requestEntry>, ReturnType<typeof accessEntry>] {
  const trace_id = `0193a1b2-c3d4-7e5f-8a9b-${String(n).padStart(12, '0')}`;
  const body = { bytes: 11, text: `{"n":${n}}`.padEnd(11), truncated: false };
  const request = requestInfo({ method: 'POST', uri: `/api/users/${n}?q=1`, body });
  return [requestEntry({ trace_id, request }), accessEntry({ trace_id, request, resp_body: { bytes: 2, text: 'ok', truncated: false } })];
}

function rows(db: StoreDb): unknown[] {
  return db.prepare('SELECT * FROM exchanges ORDER BY trace_id').all().map((r) => ({ ...(r as object), id: undefined }));
}

function searchable(db: StoreDb, term: string): number {
  return db.prepare('SELECT count(*) FROM exchanges_fts WHERE exchanges_fts MATCH ?').pluck().get(term) as number;
}

describe('the store rows of a batch', () => {
  it('are the same whether an exchange\'s two entries come in one batch or in two', () => {
    const { dir, cleanup } = tempDir('store-rows');
    const together = openStoreForWriting(join(dir, 'together.db'));
    const apart = openStoreForWriting(join(dir, 'apart.db'));
    try {
      const [req1, acc1] = exchange(1);
      const [req2, acc2] = exchange(2);
      rowWriter(together)([req1, acc1, req2, acc2]);
      const writeApart = rowWriter(apart);
      writeApart([req1, req2]);
      writeApart([acc2, acc1]);
      expect(rows(together)).toHaveLength(2);
      expect(rows(together)).toEqual(rows(apart));
      // Each exchange is found once by its body text, however it was written.
      expect(searchable(together, '"ok"')).toBe(2);
      expect(searchable(apart, '"ok"')).toBe(2);
      // …and by what its first entry alone gave, once: completing the row replaced its terms.
      expect(searchable(together, 'users')).toBe(2);
      expect(searchable(apart, 'users')).toBe(2);
    } finally {
      together.close();
      apart.close();
      cleanup();
    }
  });
});
