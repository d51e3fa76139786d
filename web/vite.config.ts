/**
 * The web console's static build: `vite build --config web/vite.config.ts` writes `dist/web/`,
 * which the service serves at `/` (src/api/console.ts). The console imports the SDK from
 * src/client, so the browser builds, signs and verifies exactly the bytes the CLI does.
 *
 * `build.manifest` writes `.vite/manifest.json`; the service takes a folder as a console build
 * only when it holds that file (so it never serves this source folder's index.html).
 */
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const here = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  root: here,
  base: '/',
  publicDir: false,
  logLevel: 'warn',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: fileURLToPath(new URL('../dist/web', import.meta.url)),
    emptyOutDir: true,
    manifest: true,
    target: 'es2022',
    sourcemap: true,
    // The SDK with its crypto and schemas is a few hundred kB before gzip; one chunk is fine.
    chunkSizeWarningLimit: 1024,
    reportCompressedSize: false,
  },
});
