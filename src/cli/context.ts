/**
 * What every command shares: the global options (`--url`, `--key`, `--json`, `--expires-in`), the
 * key file, one `LedgerClient`, the ledger's facts (read once from `GET /v1/ledger`), and where
 * output goes.
 */
import { stat } from 'node:fs/promises';

import type { KeyFile, LedgerClient, LedgerInfo } from '../client/index.js';
import { usageError } from './errors.js';
import { readText } from './files.js';
import { marks, type Marks } from './format.js';

export const URL_DEFAULT = 'http://127.0.0.1:8080';

export interface GlobalOptions {
  readonly url?: string;
  readonly key?: string;
  readonly json?: boolean;
  /** Already parsed by the option's parser: milliseconds. */
  readonly expiresIn?: number;
}

export interface Streams {
  readonly stdout: NodeJS.WriteStream;
  readonly stderr: NodeJS.WriteStream;
  readonly stdin: NodeJS.ReadStream;
  readonly env: NodeJS.ProcessEnv;
}

export class Context {
  readonly url: string;
  readonly json: boolean;
  #key: Promise<KeyFile> | undefined;
  #client: LedgerClient | undefined;
  #ledger: Promise<LedgerInfo> | undefined;

  constructor(
    readonly options: GlobalOptions,
    readonly io: Streams,
  ) {
    this.url = (options.url ?? io.env.RVL_URL ?? URL_DEFAULT).trim();
    this.json = options.json === true;
  }

  /** True when people (not a pipe) read stderr: progress bars and prompts go there. */
  get interactive(): boolean {
    return this.io.stderr.isTTY === true;
  }

  /** ✓/✗, coloured when stdout is a terminal and NO_COLOR is not set. */
  get marks(): Marks {
    return marks(this.io.stdout.isTTY === true && this.io.env.NO_COLOR === undefined);
  }

  out(text: string): void {
    this.io.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
  }

  /** A note for people on stderr (kept out of stdout, which scripts read). */
  note(text: string): void {
    this.io.stderr.write(text.endsWith('\n') ? text : `${text}\n`);
  }

  /** Machine-readable output for `--json`: bigints as decimal strings. */
  emit(value: unknown): void {
    this.out(JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), 2));
  }

  /** The path of the key file (`--key`, else `RVL_KEY`); a usage error if there is none. */
  keyPath(why = 'this command'): string {
    const path = this.options.key ?? this.io.env.RVL_KEY;
    if (path === undefined || path.length === 0) {
      throw usageError(`${why} needs your key file: give it with --key FILE or set RVL_KEY`);
    }
    return path;
  }

  /** The key file, read and checked once. Warns when others may read it. */
  key(why?: string): Promise<KeyFile> {
    this.#key ??= this.#loadKey(this.keyPath(why));
    return this.#key;
  }

  async #loadKey(path: string): Promise<KeyFile> {
    const text = await readText(path, 'key file');
    const { parseKeyFile } = await import('../client/index.js');
    let key: KeyFile;
    try {
      key = parseKeyFile(text);
    } catch (err) {
      const e = err as { code?: string; detail?: string };
      throw usageError(`${path} is not a usable key file: ${e.code ?? 'BAD'}: ${e.detail ?? 'unreadable'}`);
    }
    try {
      const { mode } = await stat(path);
      if (process.platform !== 'win32' && (mode & 0o077) !== 0) {
        this.note(`rvl: warning: ${path} can be read by others (mode ${(mode & 0o777).toString(8)}); protect it with: chmod 600 ${path}`);
      }
    } catch {
      // stat after a successful read cannot fail in practice; the warning is only a courtesy.
    }
    return key;
  }

  /** The client, with the key when one is given (reads need it; `submit` does not). */
  async client(withKey: boolean): Promise<LedgerClient> {
    if (!/^https?:\/\/[^\s/]+/.test(this.url)) throw usageError(`--url must be an http(s) URL, not "${this.url}"`);
    if (this.#client === undefined || (withKey && this.#client.key === undefined)) {
      const key = withKey ? await this.key() : undefined;
      const { LedgerClient } = await import('../client/index.js');
      this.#client = new LedgerClient({ baseUrl: this.url, ...(key ? { key } : {}) });
    }
    return this.#client;
  }

  /** `GET /v1/ledger`, once. */
  async ledger(): Promise<LedgerInfo> {
    const client = await this.client(false);
    this.#ledger ??= client.ledger();
    return this.#ledger;
  }

  /** `expiresAt` for a new op, from `--expires-in` (or a command's default). */
  expiresAt(defaultMs?: number): string | undefined {
    const ms = this.options.expiresIn ?? defaultMs;
    return ms === undefined ? undefined : new Date(Date.now() + ms).toISOString();
  }
}
