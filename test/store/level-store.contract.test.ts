/** The LevelDB adapter against the storage port's contract: real LevelDB in a temporary folder. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { LevelStore } from '../../src/store/level-store.js';
import { storeContract } from './contract.js';

storeContract('LevelStore', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'rvl-contract-'));
  let current = new LevelStore(dir);
  await current.open();
  let open = true;
  return {
    store: current,
    async reopen() {
      if (open) await current.close();
      open = false;
      current = new LevelStore(dir);
      await current.open();
      open = true;
      return current;
    },
    async dispose() {
      if (open) await current.close();
      open = false;
      await rm(dir, { recursive: true, force: true });
    },
  };
});
