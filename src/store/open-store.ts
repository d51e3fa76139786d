/**
 * The one place that chooses a storage backend from configuration. The service, the backup
 * restore and the offline reseal all make their store here.
 */
import path from 'node:path';
import { LevelStore } from './level-store.js';
import type { Store } from './port.js';

/** Which backend, and where its data lives. */
export type StoreConfig = {
  /** The embedded LevelDB, in `<dataDir>/db`. */
  readonly kind: 'level';
  readonly dataDir: string;
  /**
   * Whether each commit is fsync'd (default true). A cluster node's store is derived from the log
   * of record, which is the durable copy: it need not be.
   */
  readonly sync?: boolean;
};

/** A store of the configured backend, not yet opened. */
export const openStore = (c: StoreConfig): Store => {
  switch (c.kind) {
    case 'level':
      return new LevelStore(path.join(c.dataDir, 'db'), { sync: c.sync ?? true });
    default: {
      const unknown: never = c.kind;
      throw new Error(`unknown store backend ${String(unknown)}`);
    }
  }
};
