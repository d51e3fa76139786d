/**
 * Files the CLI reads and writes: key files (mode 0600, never overwritten), pledge requests
 * (rewritten in place atomically, so a crash leaves the old file or the new one), proof bundles
 * and the trusted checkpoint. Errors name the file and say what to do, as usage errors (exit 2).
 */
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, open, readFile, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';

import { usageError } from './errors.js';

/** Files larger than this are not what rvl reads (a proof bundle of a long lineage is ~ MBs). */
const READ_BYTES_MAX = 256 * 1024 * 1024;

const errno = (err: unknown): string | undefined => (err as NodeJS.ErrnoException | undefined)?.code;

/** Reads a UTF-8 text file; `what` names it in errors ("key file", "bundle"). */
export const readText = async (file: string, what: string): Promise<string> => {
  try {
    const info = await stat(file);
    if (info.isDirectory()) throw usageError(`${file} is a folder, not a ${what}`);
    if (info.size > READ_BYTES_MAX) throw usageError(`${file} is too large to be a ${what}`);
    return await readFile(file, 'utf8');
  } catch (err) {
    if (errno(err) === 'ENOENT') throw usageError(`no ${what} at ${file}`);
    if (errno(err) === 'EACCES') throw usageError(`cannot read ${file} (permission denied)`);
    throw err;
  }
};

/** Reads a JSON file; a file that is not JSON is a usage error naming it. */
export const readJson = async (file: string, what: string): Promise<unknown> => {
  const text = await readText(file, what);
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw usageError(`${file} is not a ${what} (not JSON)`);
  }
};

/** Writes a new file; refuses to overwrite one. `mode` applies from the first byte. */
export const writeNew = async (file: string, text: string, mode = 0o644): Promise<void> => {
  let handle;
  try {
    handle = await open(file, 'wx', mode);
  } catch (err) {
    if (errno(err) === 'EEXIST') throw usageError(`${file} already exists; rvl never overwrites it (choose another --out, or move it away)`);
    if (errno(err) === 'ENOENT') throw usageError(`cannot create ${file}: its folder does not exist`);
    if (errno(err) === 'EACCES') throw usageError(`cannot create ${file} (permission denied)`);
    throw err;
  }
  try {
    await handle.writeFile(text, 'utf8');
    await handle.sync();
  } finally {
    await handle.close();
  }
  // The umask may have narrowed the mode; it must not have widened it, but make it exact.
  await chmod(file, mode);
};

/** Replaces a file's contents atomically (a temporary file beside it, then rename), keeping its mode. */
export const replaceFile = async (file: string, text: string, modeIfNew = 0o644): Promise<void> => {
  let mode = modeIfNew;
  try {
    mode = (await stat(file)).mode & 0o777;
  } catch (err) {
    if (errno(err) !== 'ENOENT') throw err;
  }
  const dir = path.dirname(file);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const tmp = path.join(dir, `.${path.basename(file)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    const handle = await open(tmp, 'wx', mode);
    try {
      await handle.writeFile(text, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true });
    if (errno(err) === 'EACCES') throw usageError(`cannot write ${file} (permission denied)`);
    throw err;
  }
};
