/**
 * Replacing a small file atomically and durably: a temporary file written and fsync'd, renamed
 * over the old one, and the folder fsync'd, so that after a crash the file is either the old one
 * or the new one, whole. Node only.
 */
import fs from 'node:fs/promises';
import path from 'node:path';

export const writeFileDurably = async (file: string, data: string, mode = 0o600): Promise<void> => {
  const temp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  const handle = await fs.open(temp, 'w', mode);
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await fs.rename(temp, file);
  const folder = await fs.open(path.dirname(file), 'r');
  try {
    await folder.sync();
  } finally {
    await folder.close();
  }
};
