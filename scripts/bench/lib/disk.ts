/** Bytes a folder takes: the files' sizes (as `du -sb`) and the blocks allocated (as `du -s`). */
import { lstat, readdir } from 'node:fs/promises';
import path from 'node:path';

export interface DiskUsage {
  readonly files: number;
  readonly apparentBytes: number;
  readonly allocatedBytes: number;
}

export const diskUsage = async (dir: string): Promise<DiskUsage> => {
  let files = 0;
  let apparentBytes = 0;
  let allocatedBytes = 0;
  const walk = async (d: string): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else {
        const st = await lstat(p);
        files += 1;
        apparentBytes += st.size;
        allocatedBytes += st.blocks * 512;
      }
    }
  };
  await walk(dir);
  return { files, apparentBytes, allocatedBytes };
};
