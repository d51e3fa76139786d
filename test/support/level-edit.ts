/**
 * Editing a stopped ledger's LevelDB folder as an attacker with access to the data folder (but not
 * to the node key) would: the `level` package opened directly on `<data>/db`, sublevels by name,
 * entries keyed by their seq. The service must be stopped (LevelDB takes a lock).
 */
import { cp } from 'node:fs/promises';
import path from 'node:path';
import { Level } from 'level';
import { tempDir } from './service-process.js';

/** The entries sublevel's key of `seq`: 12 lowercase hex digits, as the LevelDB adapter writes it. */
export const seqKey = (seq: number): string => seq.toString(16).padStart(12, '0');

/** Opens `<dataDir>/db` of a stopped ledger, hands it to `change`, and closes it. */
export const editLevel = async (dataDir: string, change: (db: Level<string, string>) => Promise<void>): Promise<void> => {
  const db = new Level<string, string>(path.join(dataDir, 'db'), { valueEncoding: 'utf8' });
  await db.open();
  try {
    await change(db);
  } finally {
    await db.close();
  }
};

/** The sublevel `name` (e.g. 'e' entries, 'v' vouchers), values as text. */
export const sublevel = (db: Level<string, string>, name: string) => db.sublevel<string, string>(name, { valueEncoding: 'utf8' });

/** A fresh copy of the stopped ledger folder `pristine`, to spoil (removed by `cleanup()` of test/support/service-process.ts). */
export const copyLedger = async (pristine: string, prefix = 'rvl-e2e-tamper-'): Promise<string> => {
  const dir = await tempDir(prefix);
  await cp(pristine, dir, { recursive: true });
  return dir;
};
