/**
 * The newest checkpoint the node signed, kept outside its database, beside its key file
 * (`<node key file>.checkpoint`), where an edit of the data folder does not reach it. At start the
 * log must reach its size and have its root there (src/service/open.ts): a log cut short or
 * rewritten behind the node's back is refused even when the stored checkpoint was deleted with it.
 *
 * It is written atomically (a temporary file fsync'd, renamed over the old one, the folder
 * fsync'd), at most about once a second while the log grows and once on a clean shutdown — never
 * on the commit path: a crash can leave it behind the log, which is consistent (a prefix), never
 * ahead of it.
 */
import { writeFileDurably } from '../ledger/node/durable-file.js';
import { promises as fs } from 'node:fs';
import type { Logger } from 'pino';

/** Where the outside checkpoint of the ledger whose node key is `nodeKeyFile` lives. */
export const outsideCheckpointFile = (nodeKeyFile: string): string => `${nodeKeyFile}.checkpoint`;

/** The note in the file, or undefined if there is no file. */
export const readOutsideCheckpoint = async (file: string): Promise<string | undefined> => {
  try {
    return await fs.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
};

/** Replaces the file with `note`, atomically and durably. */
export const writeOutsideCheckpoint = (file: string, note: string): Promise<void> => writeFileDurably(file, note);

/** How often, at most, the file is rewritten while the log grows. */
const KEEP_INTERVAL_MS = 1000;

/** Writes the service's newest durable checkpoint to the file, at most once a `KEEP_INTERVAL_MS`. */
export class CheckpointKeeper {
  readonly #file: string;
  readonly #logger: Logger;
  readonly #current: () => { size: number; note: string };
  #keptSize = -1;
  #timer: NodeJS.Timeout | undefined;
  #writing: Promise<void> | undefined;

  constructor(file: string, logger: Logger, current: () => { size: number; note: string }) {
    this.#file = file;
    this.#logger = logger;
    this.#current = current;
  }

  /** Writes the current checkpoint now, then whenever the log has grown, once a second. */
  start(): void {
    if (this.#timer) return;
    void this.#keep();
    this.#timer = setInterval(() => void this.#keep(), KEEP_INTERVAL_MS);
    this.#timer.unref();
  }

  /** Stops the timer and writes the last checkpoint (a clean shutdown). */
  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#keep();
  }

  #keep(): Promise<void> {
    this.#writing = (this.#writing ?? Promise.resolve()).then(async () => {
      const { size, note } = this.#current();
      if (size <= this.#keptSize || note === '') return;
      try {
        await writeOutsideCheckpoint(this.#file, note);
        this.#keptSize = size;
      } catch (err) {
        this.#logger.warn({ err, file: this.#file }, 'could not keep the checkpoint beside the node key');
      }
    });
    return this.#writing;
  }
}
