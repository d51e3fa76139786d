/**
 * What every command shares: the global options (`--url`, `--key`, `--json`, `--expires-in`), the
 * key file, one `LedgerClient`, the ledger's facts (read once from `GET /v1/ledger`), and where
 * output goes.
 */
import { existsSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import path from 'node:path';

import type { KeyFile, LedgerClient, LedgerInfo } from '../client/index.js';
import { refusedError, usageError } from './errors.js';
import { readText } from './files.js';
import { marks, type Marks } from './format.js';
import { PATTERNS } from '../domain/limits.js';

export const URL_DEFAULT = 'http://127.0.0.1:8080';

/**
 * The folder `rvl keygen` writes keys to by default, outside any work tree: `$RVL_KEY_DIR` if
 * set, else `~/.rvl/keys`.
 */
export const keyDirOf = (env: NodeJS.ProcessEnv): string => {
  const dir = env.RVL_KEY_DIR?.trim();
  return dir !== undefined && dir.length > 0 ? path.resolve(dir) : path.join(homedir(), '.rvl', 'keys');
};

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
  /** The party of the key file, once it is loaded (errors name it). */
  party: string | undefined;
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

  /** The key folder (see `keyDirOf`). */
  get keyDir(): string {
    return keyDirOf(this.io.env);
  }

  /** True when a key is given (`--key` or `RVL_KEY`), whether or not it is usable. */
  get hasKey(): boolean {
    const given = this.options.key ?? this.io.env.RVL_KEY;
    return given !== undefined && given.length > 0;
  }

  /**
   * The path of the key file (`--key`, else `RVL_KEY`); a usage error if there is none. A bare
   * party id (`dongguan-parts`) that is not a file in the working folder means
   * `<key folder>/<id>.key`, where `rvl keygen` puts keys.
   */
  keyPath(why = 'this command'): string {
    const given = this.options.key ?? this.io.env.RVL_KEY;
    if (given === undefined || given.length === 0) {
      throw usageError(`${why} needs your key file: give it with --key FILE (or your party id, for ${path.join(this.keyDir, '<id>.key')}) or set RVL_KEY`);
    }
    if (PATTERNS.partyId.test(given) && !existsSync(given)) return path.join(this.keyDir, `${given}.key`);
    return given;
  }

  /** The key file, read and checked once. Warns when others may read it. */
  key(why?: string): Promise<KeyFile> {
    this.#key ??= this.#loadKey(this.keyPath(why));
    return this.#key;
  }

  async #loadKey(file: string): Promise<KeyFile> {
    const text = await readText(file, 'key file');
    const { parseKeyFile } = await import('../client/index.js');
    let key: KeyFile;
    try {
      key = parseKeyFile(text);
    } catch (err) {
      const e = err as { code?: string; detail?: string };
      if (e.code === 'PUBLIC_KEY_FILE') throw usageError(`${file}: ${e.detail ?? 'a public key file'}`);
      throw usageError(`${file} is not a usable key file: ${e.code ?? 'BAD'}: ${e.detail ?? 'unreadable'}`);
    }
    this.party = key.party;
    try {
      const { mode } = await stat(file);
      if (process.platform !== 'win32' && (mode & 0o077) !== 0) {
        this.note(`rvl: warning: ${file} can be read by others (mode ${(mode & 0o777).toString(8)}); protect it with: chmod 600 ${file}`);
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

  /**
   * `GET /v1/ledger`, checked against `trusted` when given: the ledger id a user trusts comes from
   * the operator out of band, so a service that reports another id is refused (exit 1).
   */
  async ledgerTrusted(trusted: string | undefined): Promise<LedgerInfo> {
    const info = await this.ledger();
    if (trusted !== undefined && info.ledgerId !== trusted) {
      throw refusedError(
        `the service at ${this.url} serves ledger ${info.ledgerId}, not the ledger ${trusted} you trust (--ledger); nothing was done — check --url, and the id with the ledger's operator`,
        'WRONG_LEDGER',
      );
    }
    return info;
  }

  /** `expiresAt` for a new op, from `--expires-in` (or a command's default). */
  expiresAt(defaultMs?: number): string | undefined {
    const ms = this.options.expiresIn ?? defaultMs;
    return ms === undefined ? undefined : new Date(Date.now() + ms).toISOString();
  }
}
