/**
 * Browser tests of the web console: Debian's Chromium driven by playwright-core (never a
 * downloaded browser), against the real compiled service (test/e2e/server.ts) whose build includes
 * the console (test/e2e-setup.ts builds it into `<build>/web`).
 *
 * - `launch()` starts /usr/bin/chromium (or $RVL_CHROMIUM) headless with the flags this machine
 *   needs; a missing Chromium fails with how to install it.
 * - `decodePng` / `pixelStats` read a screenshot's pixels (8-bit RGB/RGBA PNG, as Chromium writes
 *   them), so a test can tell a rendered screen from a blank one.
 * - `registerParties` (test/support/cast.ts) makes key files and has the operator register the parties.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { inflateSync } from 'node:zlib';

import { chromium, type Browser, type Page } from 'playwright-core';

import { REPO_ROOT } from '../e2e/server.js';

export const CHROMIUM = process.env.RVL_CHROMIUM ?? '/usr/bin/chromium';
export const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
];

/** Screenshots of each main screen (gitignored). */
export const ARTIFACTS = path.join(REPO_ROOT, 'test-artifacts', 'browser');
/** The README's screenshots of the console (committed; refreshed with RVL_DOCS_SCREENSHOTS=1). */
export const DOCS_SHOTS = path.join(REPO_ROOT, 'docs', 'console');

export const launch = async (): Promise<Browser> => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`no Chromium at ${CHROMIUM}: install Debian's (apt-get install -y chromium) or set RVL_CHROMIUM; the browser tests never download one`);
  }
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_FLAGS, headless: true, timeout: 30_000 });
};

// ---- PNG ----

export interface Image {
  readonly width: number;
  readonly height: number;
  /** RGBA, 4 bytes a pixel. */
  readonly rgba: Uint8Array;
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** Decodes a non-interlaced 8-bit grey, grey+alpha, RGB or RGBA PNG (PNG spec §§ 5, 9, 11). */
export const decodePng = (png: Buffer): Image => {
  if (!png.subarray(0, 8).equals(PNG_SIGNATURE)) throw new Error('not a PNG');
  let at = 8;
  let width = 0;
  let height = 0;
  let colorType = -1;
  const idat: Buffer[] = [];
  while (at + 8 <= png.length) {
    const length = png.readUInt32BE(at);
    const type = png.toString('latin1', at + 4, at + 8);
    const data = png.subarray(at + 8, at + 8 + length);
    at += 12 + length;
    if (type === 'IHDR') {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      const bitDepth = data[8];
      colorType = data[9]!;
      if (bitDepth !== 8 || data[12] !== 0) throw new Error(`unsupported PNG: bit depth ${bitDepth}, interlace ${data[12]}`);
    } else if (type === 'IDAT') idat.push(data);
    else if (type === 'IEND') break;
  }
  const channels = ({ 0: 1, 2: 3, 4: 2, 6: 4 } as Record<number, number>)[colorType];
  if (channels === undefined) throw new Error(`unsupported PNG colour type ${colorType}`);
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * channels;
  const rows = new Uint8Array(height * stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)]!;
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    for (let x = 0; x < stride; x++) {
      const a = x >= channels ? rows[y * stride + x - channels]! : 0;
      const b = y > 0 ? rows[(y - 1) * stride + x]! : 0;
      const c = x >= channels && y > 0 ? rows[(y - 1) * stride + x - channels]! : 0;
      const v = line[x]!;
      let out: number;
      switch (filter) {
        case 0:
          out = v;
          break;
        case 1:
          out = v + a;
          break;
        case 2:
          out = v + b;
          break;
        case 3:
          out = v + ((a + b) >> 1);
          break;
        case 4: {
          const p = a + b - c;
          const pa = Math.abs(p - a);
          const pb = Math.abs(p - b);
          const pc = Math.abs(p - c);
          out = v + (pa <= pb && pa <= pc ? a : pb <= pc ? b : c);
          break;
        }
        default:
          throw new Error(`bad PNG filter ${filter}`);
      }
      rows[y * stride + x] = out & 0xff;
    }
  }
  const rgba = new Uint8Array(width * height * 4);
  for (let i = 0; i < width * height; i++) {
    const s = i * channels;
    const grey = channels <= 2;
    rgba[i * 4] = rows[s]!;
    rgba[i * 4 + 1] = grey ? rows[s]! : rows[s + 1]!;
    rgba[i * 4 + 2] = grey ? rows[s]! : rows[s + 2]!;
    rgba[i * 4 + 3] = channels === 4 ? rows[s + 3]! : channels === 2 ? rows[s + 1]! : 255;
  }
  return { width, height, rgba };
};

export interface PixelStats {
  /** Standard deviation of luminance, 0–255. */
  readonly stddev: number;
  /** Distinct colours (RGB quantised to 5 bits a channel). */
  readonly colours: number;
  /** Share of pixels that differ from the most common colour. */
  readonly inked: number;
}

export const pixelStats = (img: Image): PixelStats => {
  const n = img.width * img.height;
  let sum = 0;
  let sumSq = 0;
  const counts = new Map<number, number>();
  for (let i = 0; i < n; i++) {
    const r = img.rgba[i * 4]!;
    const g = img.rgba[i * 4 + 1]!;
    const b = img.rgba[i * 4 + 2]!;
    const y = 0.2126 * r + 0.7152 * g + 0.0722 * b;
    sum += y;
    sumSq += y * y;
    const q = ((r >> 3) << 10) | ((g >> 3) << 5) | (b >> 3);
    counts.set(q, (counts.get(q) ?? 0) + 1);
  }
  const mean = sum / n;
  const top = Math.max(...counts.values());
  return { stddev: Math.sqrt(Math.max(0, sumSq / n - mean * mean)), colours: counts.size, inked: 1 - top / n };
};

/** A screen that shows something: varied luminance, many colours, and ink on a good share of it. */
export const looksRendered = (s: PixelStats): boolean => s.stddev > 12 && s.colours > 40 && s.inked > 0.04;

// ---- pages ----

/**
 * Sets the page's default wait (15 s) and collects its script errors into `errors` (and, unless
 * `consoleErrors` is false, the console's errors other than failed resource loads).
 */
export const watch = (page: Page, errors: string[], o: { consoleErrors?: boolean } = {}): Page => {
  page.setDefaultTimeout(15_000);
  page.on('pageerror', (e) => errors.push(e.message));
  if (o.consoleErrors ?? true) {
    page.on('console', (m) => {
      if (m.type() === 'error' && !/Failed to load resource/.test(m.text())) errors.push(m.text());
    });
  }
  return page;
};

/**
 * Signs in on `<base>/sign-in` (no `next`) with the key file `file` of `party` (remembered under
 * `passphrase` if given), and waits until the console says who is signed in.
 */
export const signIn = async (page: Page, base: string, file: string, party: string, o: { passphrase?: string } = {}): Promise<void> => {
  await page.goto(`${base}/sign-in`);
  await page.setInputFiles('[data-testid=key-file]', file);
  await page.getByTestId('key-loaded').getByText(party).waitFor();
  if (o.passphrase !== undefined) {
    await page.getByTestId('remember').check();
    await page.getByTestId('remember-passphrase').fill(o.passphrase);
    await page.getByTestId('remember-passphrase2').fill(o.passphrase);
  }
  await page.getByTestId('sign-in').click();
  await page.getByTestId('signed-in-as').getByText(party).waitFor();
};

export { registerParties, type PartySpec } from '../support/cast.js';
export { dueIn } from '../support/time.js';
