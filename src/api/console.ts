/**
 * The web console (web/, built by Vite into `dist/web/`) served at `/` as static files.
 *
 * - The build is read into memory once, when the plugin registers: only regular files below the
 *   build folder (no symlinks, no dot-files such as Vite's `.vite/manifest.json`) become
 *   answerable paths, so a request can never name a file outside it, whatever its dots, slashes or
 *   encodings. A rebuild is served after a restart.
 * - Content types by extension; `nosniff`. Vite's hashed assets (`/assets/*`) are cached for a
 *   year as immutable; everything else (index.html) is `no-cache` with a strong ETag, so a new
 *   build is picked up at once. `If-None-Match` gets a 304. Text is compressed (br or gzip, as the
 *   client accepts) on first request and kept.
 * - A GET of an HTML route (the console's own paths, such as `/vouchers/v…`) is answered with
 *   index.html, so the console's history routing survives a reload; only when the client accepts
 *   text/html, the path does not look like a file, and it is not under the API or the operations
 *   endpoints (`/v1`, `/docs`, `/openapi.json`, `/metrics`, `/healthz`, `/readyz`), which keep
 *   their problem+json 404.
 * - Without a build (only `tsc` ran), `/` and HTML routes answer 404 with a short page saying how
 *   to build the console, and other clients the usual problem+json 404: never a 5xx.
 *
 * The folder is the first of: the `root` option; `web/` beside the compiled `src/` (`dist/web`
 * for `dist/src/api/console.js`, and the e2e build's private folder likewise); `dist/web` of the
 * repository when running from sources. A folder counts only if it holds index.html and Vite's
 * manifest (`.vite/manifest.json`), so web/'s own source index.html is never served.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { lstat, readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { brotliCompress, constants as zlib, gzip } from 'node:zlib';

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

import { sendProblem } from './problem.js';
import { SECURITY_HEADERS } from './security-headers.js';

export interface ConsoleOptions {
  /** The built console's folder; default: see the module comment. */
  readonly root?: string;
}

/** Limits on what is read into memory. A console build is well under a megabyte of code. */
const FILE_BYTES_MAX = 8 * 1024 * 1024;
const TOTAL_BYTES_MAX = 64 * 1024 * 1024;
const FILES_MAX = 2000;
/** Smaller answers are not worth compressing. */
const COMPRESS_BYTES_MIN = 1024;

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
  '.webmanifest': 'application/manifest+json',
  '.wasm': 'application/wasm',
};
const COMPRESSIBLE = new Set(['.html', '.js', '.mjs', '.css', '.json', '.map', '.svg', '.txt', '.webmanifest']);

/** Paths that belong to the API and operations: never the console's, never index.html. */
const RESERVED = ['/v1', '/docs', '/openapi.json', '/metrics', '/healthz', '/readyz', '/assets'];

const IMMUTABLE = 'public, max-age=31536000, immutable';
const REVALIDATE = 'no-cache';

type Encoding = 'br' | 'gzip';

interface StaticFile {
  readonly body: Buffer;
  readonly type: string;
  readonly etag: string;
  readonly cacheControl: string;
  readonly compressible: boolean;
  readonly compressed: Map<Encoding, Promise<Buffer>>;
}

const compressors: Record<Encoding, (b: Buffer) => Promise<Buffer>> = {
  br: (b) =>
    promisify(brotliCompress)(b, {
      params: { [zlib.BROTLI_PARAM_QUALITY]: 9, [zlib.BROTLI_PARAM_SIZE_HINT]: b.length, [zlib.BROTLI_PARAM_MODE]: zlib.BROTLI_MODE_TEXT },
    }),
  gzip: (b) => promisify(gzip)(b, { level: 9 }),
};

/** The folders where a build may be, in order (see the module comment). */
const candidates = (): string[] => {
  const here = path.dirname(fileURLToPath(import.meta.url)); // <out>/src/api or <repo>/src/api
  return [path.resolve(here, '..', '..', 'web'), path.resolve(here, '..', '..', 'dist', 'web')];
};

const isBuild = (dir: string): boolean => existsSync(path.join(dir, 'index.html')) && existsSync(path.join(dir, '.vite', 'manifest.json'));

/** The build's folder, or undefined when there is none. */
export const findConsoleBuild = (root?: string): string | undefined => {
  const dirs = root === undefined ? candidates() : [path.resolve(root)];
  return dirs.find(isBuild);
};

/** Reads every regular, non-hidden file below `dir` into memory, keyed by its URL path ("assets/x.js"). */
const loadFiles = async (dir: string, warn: (msg: string) => void): Promise<Map<string, StaticFile>> => {
  const files = new Map<string, StaticFile>();
  let total = 0;
  const walk = async (rel: string): Promise<void> => {
    const entries = await readdir(path.join(dir, rel), { withFileTypes: true });
    for (const e of entries) {
      if (e.name.startsWith('.')) continue;
      const relPath = rel === '' ? e.name : `${rel}/${e.name}`;
      const full = path.join(dir, relPath);
      const st = await lstat(full);
      if (st.isSymbolicLink()) continue;
      if (st.isDirectory()) {
        await walk(relPath);
        continue;
      }
      if (!st.isFile()) continue;
      if (files.size >= FILES_MAX || st.size > FILE_BYTES_MAX || total + st.size > TOTAL_BYTES_MAX) {
        warn(`web console: not serving ${relPath} (over the size or count limits)`);
        continue;
      }
      const body = await readFile(full);
      total += body.length;
      const ext = path.extname(e.name).toLowerCase();
      files.set(relPath, {
        body,
        type: TYPES[ext] ?? 'application/octet-stream',
        etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`,
        // Vite names everything under assets/ by its content hash.
        cacheControl: relPath.startsWith('assets/') ? IMMUTABLE : REVALIDATE,
        compressible: COMPRESSIBLE.has(ext) && body.length >= COMPRESS_BYTES_MIN,
        compressed: new Map(),
      });
    }
  };
  await walk('');
  return files;
};

/** The path of a request URL, decoded, or undefined if it cannot name a file. */
const requestPath = (url: string): string | undefined => {
  const raw = url.split('?')[0] ?? '/';
  let decoded: string;
  try {
    decoded = decodeURIComponent(raw);
  } catch {
    return undefined;
  }
  if (decoded.includes('\0') || decoded.includes('\\')) return undefined;
  return decoded;
};

const isReserved = (p: string): boolean => RESERVED.some((r) => p === r || p.startsWith(`${r}/`));

/** A navigation to one of the console's pages: HTML wanted, not a file name, not the API. */
const isHtmlRoute = (req: FastifyRequest, p: string): boolean => {
  if (isReserved(p)) return false;
  const last = p.split('/').pop() ?? '';
  if (last.includes('.')) return false;
  const accept = req.headers.accept ?? '';
  return /\btext\/html\b/i.test(accept);
};

/** The best encoding the client accepts, of those we make. */
const encodingFor = (req: FastifyRequest): Encoding | undefined => {
  const header = req.headers['accept-encoding'];
  const accept = (Array.isArray(header) ? header.join(',') : (header ?? '')).toLowerCase();
  const allowed = (name: string): boolean => {
    const m = new RegExp(`(?:^|,)\\s*${name}\\s*(?:;\\s*q\\s*=\\s*([0-9.]+))?\\s*(?:,|$)`).exec(accept);
    return m !== null && (m[1] === undefined || Number(m[1]) > 0);
  };
  if (allowed('br')) return 'br';
  if (allowed('gzip')) return 'gzip';
  return undefined;
};

const etagMatches = (req: FastifyRequest, etag: string): boolean => {
  const header = req.headers['if-none-match'];
  if (header === undefined) return false;
  return header
    .split(',')
    .map((t) => t.trim().replace(/^W\//, ''))
    .some((t) => t === etag || t === '*');
};

const send = async (req: FastifyRequest, reply: FastifyReply, file: StaticFile, html: boolean): Promise<FastifyReply> => {
  reply.header('cache-control', file.cacheControl);
  reply.header('etag', file.etag);
  reply.header('x-content-type-options', 'nosniff');
  if (file.compressible) reply.header('vary', 'accept-encoding');
  if (html) {
    // The service's security headers, when this plugin runs without the app's hook (its own tests).
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) if (!reply.hasHeader(name)) reply.header(name, value);
  }
  if (etagMatches(req, file.etag)) return reply.code(304).send();
  reply.type(file.type);
  const encoding = file.compressible ? encodingFor(req) : undefined;
  if (encoding === undefined) return reply.send(file.body);
  let pending = file.compressed.get(encoding);
  if (pending === undefined) {
    pending = compressors[encoding](file.body);
    file.compressed.set(encoding, pending);
    pending.catch(() => file.compressed.delete(encoding));
  }
  let body: Buffer;
  try {
    body = await pending;
  } catch {
    return reply.send(file.body); // compression failed: send it plain
  }
  reply.header('content-encoding', encoding);
  return reply.send(body);
};

const NOT_BUILT_HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Web console not built</title></head>
<body><h1>The web console is not built</h1>
<p>This service serves the ledger's web console from <code>dist/web</code>, which is missing. Build it and restart the service:</p>
<pre>npm run build        # tsc, then vite build --config web/vite.config.ts
npm start            # or: node dist/src/main.js</pre>
<p>The API works meanwhile: <a href="/docs">API docs</a>, <a href="/v1/ledger">/v1/ledger</a>.</p>
</body></html>
`;

/** The app's own 404 (problem+json), as for any unknown route. */
const notFound = (reply: FastifyReply): FastifyReply => {
  reply.callNotFound();
  return reply;
};

/** Registers `GET /` and `GET /*` (HEAD too) for the console. */
export default async function webConsole(app: FastifyInstance, options: ConsoleOptions = {}): Promise<void> {
  const dir = findConsoleBuild(options.root);
  const files = dir === undefined ? new Map<string, StaticFile>() : await loadFiles(dir, (m) => app.log.warn(m));
  const index = files.get('index.html');
  if (index === undefined) {
    // Info, not warn: an API-only run (tests, the demo, tsc without vite) is a normal way to run.
    app.log.info({ looked: options.root === undefined ? candidates() : [options.root] }, 'web console not built: / explains how to build it (npm run build)');
  } else {
    app.log.debug({ dir, files: files.size }, 'web console loaded');
  }

  const handler = async (req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
    const p = requestPath(req.url);
    if (p === undefined) return notFound(reply);
    // A dot segment or an empty one (`//`) names no file of the build and no page of the console.
    if (p.includes('//')) return notFound(reply);
    const segments = p.split('/').filter((s) => s.length > 0);
    if (segments.some((s) => s === '.' || s === '..')) return notFound(reply);
    const file = files.get(segments.join('/'));
    if (file !== undefined) return send(req, reply, file, file === index);
    if (p === '/' || isHtmlRoute(req, p)) {
      if (index !== undefined) return send(req, reply, index, true);
      if (/\btext\/html\b/i.test(req.headers.accept ?? '')) {
        return reply.code(404).header('cache-control', REVALIDATE).type('text/html; charset=utf-8').send(NOT_BUILT_HTML);
      }
      return sendProblem(reply, 'NOT_FOUND', 'the web console is not built: run npm run build (tsc, then vite build --config web/vite.config.ts) and restart');
    }
    return notFound(reply);
  };

  app.get('/', { schema: { hide: true } }, handler);
  app.get('/*', { schema: { hide: true } }, handler);
}
