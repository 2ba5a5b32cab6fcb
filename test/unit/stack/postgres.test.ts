import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startStack } from '../../../src/stack';
import { fieldSql } from '../../../src/db/postgresDirect';
import { STORE_BTREE_INDEXES, STORE_INDEXES, storeIndexSql } from '../../../src/stack/postgres';

describe('the embedded store on PostgreSQL', () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
  });

  test('when no PostgreSQL is installed where it is looked for, then starting the store says what to install, and starts nothing', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'hookrelay-nopg-'));
    try {
      process.env.HOOKRELAY_PG_BINDIR = path.join(dataDir, 'no-such-bin');
      process.env.HOOKRELAY_USE_FERRETDB = 'true';
      delete process.env.HOOKRELAY_EMBEDDED_STORE;
      await expect(startStack({ dataDir, store: { port: 1 }, log: () => {} })).rejects.toThrow(
        /needs PostgreSQL[\s\S]*apt-get install postgresql[\s\S]*HOOKRELAY_EMBEDDED_STORE=sqlite/,
      );
      expect(fs.existsSync(path.join(dataDir, 'postgres'))).toBe(false);
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });

  test('when the index SQL is made, then every listed field of every listed collection gets a GIN index on the expression FerretDB pushes down', () => {
    const sql = storeIndexSql();
    for (const [collection, fields] of Object.entries(STORE_INDEXES)) {
      for (const field of fields) expect(sql).toContain(`('${collection}', '${field}')`);
    }
    expect(sql).toContain('USING gin ((_jsonb->%L) jsonb_path_ops)');
    // The direct reads' B-trees, on the very columns and expressions src/deliveryLogs/readSql.ts
    // compares and sorts by (fieldSql), and the key columns they need, generated from the document.
    for (const [collection, indexes] of Object.entries(STORE_BTREE_INDEXES)) {
      for (const fields of indexes) {
        expect(sql).toContain(
          `'${fields.map((f) => `(${fieldSql(collection, f).replaceAll("'", "''")})`).join(', ')}')`,
        );
      }
    }
    expect(sql).toContain(
      "('deliverylogs', 'k:organizationId_webhookId_timestamp__id', '(k_organizationid), (k_webhookid), (k_timestamp), (k__id)')",
    );
    expect(sql).toContain("('events', 'receivedAt', '(_jsonb->''receivedAt'')')");
    expect(sql).toContain(
      "ADD COLUMN IF NOT EXISTS k_timestamp jsonb GENERATED ALWAYS AS (_jsonb->''timestamp'') STORED",
    );
    // Indexes nothing reads any more are dropped from clusters made before.
    expect(sql).toContain("('deliverylogs', 'logHour')");
    expect(sql).toContain('DROP INDEX IF EXISTS');
    expect(sql).toContain('CREATE EVENT TRIGGER hookrelay_indexes ON ddl_command_end');
  });
});
