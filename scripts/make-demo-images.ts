/** Writes the demo images in data/media (lead images, one inline figure and the logo) as PNGs, using only node:zlib. */

import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deflateSync } from 'node:zlib';
import { createRandom } from './lib/seeded-random.ts';

type Rgb = readonly [number, number, number];

/** An RGB raster with float channels in 0..255, painted with anti-aliased shapes; with `alpha`, a coverage in 0..1 per pixel. */
interface Canvas {
  readonly width: number;
  readonly height: number;
  readonly pixels: Float32Array;
  /** Transparency (straight, not premultiplied): written as an RGBA PNG. Absent: opaque RGB. */
  readonly alpha?: Float32Array;
}

interface Box {
  readonly x0: number;
  readonly y0: number;
  readonly x1: number;
  readonly y1: number;
}

/** Signed distance in pixels from (x, y) to a shape's edge: negative inside. */
type Distance = (x: number, y: number) => number;

export const MEDIA_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'data', 'media');

// ---------------------------------------------------------------------------------------------------------------
// PNG encoding

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n += 1) {
    let c = n;
    for (let k = 0; k < 8; k += 1) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC-32 as PNG chunks use it (ISO 3309 / ITU-T V.42). */
export function computeCrc32(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of bytes) crc = (CRC_TABLE[(crc ^ byte) & 0xff] ?? 0) ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

function createChunk(type: string, data: Uint8Array): Buffer {
  const chunk = Buffer.alloc(12 + data.length);
  chunk.writeUInt32BE(data.length, 0);
  chunk.write(type, 4, 'latin1');
  chunk.set(data, 8);
  chunk.writeUInt32BE(computeCrc32(chunk.subarray(4, 8 + data.length)), 8 + data.length);
  return chunk;
}

/**
 * Encodes 8-bit RGB (`channels` 3) or RGBA (4) pixels as a PNG, choosing each row's filter by the
 * minimum-sum-of-absolute-differences rule.
 */
export function encodePng(width: number, height: number, rgb: Uint8Array, channels: 3 | 4 = 3): Buffer {
  const stride = width * channels;
  const filtered = Buffer.alloc((stride + 1) * height);
  const candidate = new Uint8Array(stride);
  const best = new Uint8Array(stride);
  for (let y = 0; y < height; y += 1) {
    const row = rgb.subarray(y * stride, (y + 1) * stride);
    const up = y > 0 ? rgb.subarray((y - 1) * stride, y * stride) : new Uint8Array(stride);
    let bestType = 0;
    let bestScore = Infinity;
    for (let type = 0; type <= 4; type += 1) {
      let score = 0;
      for (let i = 0; i < stride; i += 1) {
        const a = i >= channels ? (row[i - channels] ?? 0) : 0;
        const b = up[i] ?? 0;
        const c = i >= channels ? (up[i - channels] ?? 0) : 0;
        const value = row[i] ?? 0;
        const predicted = type === 0 ? 0 : type === 1 ? a : type === 2 ? b : type === 3 ? (a + b) >> 1 : predictPaeth(a, b, c);
        const residual = (value - predicted) & 0xff;
        candidate[i] = residual;
        score += residual < 128 ? residual : 256 - residual;
      }
      if (score < bestScore) {
        bestScore = score;
        bestType = type;
        best.set(candidate);
      }
    }
    filtered[y * (stride + 1)] = bestType;
    filtered.set(best, y * (stride + 1) + 1);
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, channels === 4 ? 6 : 2, 0, 0, 0], 8); // 8-bit, truecolour (with alpha), deflate, adaptive filtering, no interlace
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    createChunk('IHDR', header),
    createChunk('IDAT', deflateSync(filtered, { level: 9, memLevel: 9 })),
    createChunk('IEND', new Uint8Array(0)),
  ]);
}

function predictPaeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a);
  const pb = Math.abs(p - b);
  const pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

// ---------------------------------------------------------------------------------------------------------------
// Painting

function createCanvas(width: number, height: number): Canvas {
  return { width, height, pixels: new Float32Array(width * height * 3) };
}

function parseHex(hex: string): Rgb {
  const value = Number.parseInt(hex.replace('#', ''), 16);
  return [(value >> 16) & 0xff, (value >> 8) & 0xff, value & 0xff];
}

function mixColors(a: Rgb, b: Rgb, t: number): Rgb {
  return [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t, a[2] + (b[2] - a[2]) * t];
}

/** Fills the canvas with a gradient through evenly spaced colours along `angle` degrees (0 = left to right). */
function fillGradient(canvas: Canvas, colors: readonly string[], angle: number): void {
  const stops = colors.map(parseHex);
  if (stops.length === 1) stops.push(...stops);
  const radians = (angle * Math.PI) / 180;
  const dx = Math.cos(radians);
  const dy = Math.sin(radians);
  const corners = [0, canvas.width].flatMap((x) => [0, canvas.height].map((y) => x * dx + y * dy));
  const min = Math.min(...corners);
  const span = Math.max(...corners) - min;
  for (let y = 0; y < canvas.height; y += 1) {
    for (let x = 0; x < canvas.width; x += 1) {
      const t = ((x + 0.5) * dx + (y + 0.5) * dy - min) / span;
      const scaled = Math.min(Math.max(t, 0), 1) * (stops.length - 1);
      const index = Math.min(Math.floor(scaled), stops.length - 2);
      const color = mixColors(stops[index] ?? [0, 0, 0], stops[index + 1] ?? [0, 0, 0], scaled - index);
      canvas.pixels.set(color, (y * canvas.width + x) * 3);
    }
  }
}

/** Paints `color` where `distance` is negative, anti-aliased over `softness` pixels, within `box`. */
function paintShape(canvas: Canvas, box: Box, distance: Distance, color: string, opacity = 1, softness = 1): void {
  const rgb = parseHex(color);
  const x0 = Math.max(0, Math.floor(box.x0 - softness));
  const y0 = Math.max(0, Math.floor(box.y0 - softness));
  const x1 = Math.min(canvas.width, Math.ceil(box.x1 + softness));
  const y1 = Math.min(canvas.height, Math.ceil(box.y1 + softness));
  for (let y = y0; y < y1; y += 1) {
    for (let x = x0; x < x1; x += 1) {
      const d = distance(x + 0.5, y + 0.5);
      const coverage = Math.min(Math.max(0.5 - d / softness, 0), 1);
      if (coverage <= 0) continue;
      const alpha = coverage * opacity;
      const offset = (y * canvas.width + x) * 3;
      for (let channel = 0; channel < 3; channel += 1) {
        const current = canvas.pixels[offset + channel] ?? 0;
        canvas.pixels[offset + channel] = current + ((rgb[channel] ?? 0) - current) * alpha;
      }
    }
  }
}

const circle =
  (cx: number, cy: number, r: number): Distance =>
  (x, y) =>
    Math.hypot(x - cx, y - cy) - r;

const roundedRect =
  (x: number, y: number, w: number, h: number, r: number): Distance =>
  (px, py) => {
    const qx = Math.abs(px - (x + w / 2)) - (w / 2 - r);
    const qy = Math.abs(py - (y + h / 2)) - (h / 2 - r);
    return Math.hypot(Math.max(qx, 0), Math.max(qy, 0)) + Math.min(Math.max(qx, qy), 0) - r;
  };

/** A line from (ax, ay) to (bx, by) with round caps, `width` pixels wide. */
const segment =
  (ax: number, ay: number, bx: number, by: number, width: number): Distance =>
  (x, y) => {
    const vx = bx - ax;
    const vy = by - ay;
    const t = Math.min(Math.max(((x - ax) * vx + (y - ay) * vy) / (vx * vx + vy * vy), 0), 1);
    return Math.hypot(x - (ax + vx * t), y - (ay + vy * t)) - width / 2;
  };

/** The outline of another shape, `width` pixels wide. */
const outline =
  (shape: Distance, width: number): Distance =>
  (x, y) =>
    Math.abs(shape(x, y)) - width / 2;

/** Everything below a sine wave. */
const wave =
  (baseline: number, amplitude: number, wavelength: number, phase: number): Distance =>
  (x, y) =>
    baseline + amplitude * Math.sin((x / wavelength) * 2 * Math.PI + phase) - y;

function boxAround(cx: number, cy: number, r: number): Box {
  return { x0: cx - r, y0: cy - r, x1: cx + r, y1: cy + r };
}

function fullBox(canvas: Canvas): Box {
  return { x0: 0, y0: 0, x1: canvas.width, y1: canvas.height };
}

function paintCircle(canvas: Canvas, cx: number, cy: number, r: number, color: string, opacity = 1, softness = 1): void {
  paintShape(canvas, boxAround(cx, cy, r), circle(cx, cy, r), color, opacity, softness);
}

function paintSegment(canvas: Canvas, ax: number, ay: number, bx: number, by: number, width: number, color: string, opacity = 1): void {
  const box = { x0: Math.min(ax, bx) - width, y0: Math.min(ay, by) - width, x1: Math.max(ax, bx) + width, y1: Math.max(ay, by) + width };
  paintShape(canvas, box, segment(ax, ay, bx, by, width), color, opacity);
}

function paintRoundedRect(canvas: Canvas, x: number, y: number, w: number, h: number, r: number, color: string, opacity = 1): void {
  paintShape(canvas, { x0: x, y0: y, x1: x + w, y1: y + h }, roundedRect(x, y, w, h, r), color, opacity);
}

/** An envelope: a rounded rectangle outline with the flap drawn as a V. */
function paintEnvelope(canvas: Canvas, x: number, y: number, w: number, h: number, stroke: number, color: string, fill?: string): void {
  const body = roundedRect(x, y, w, h, Math.min(w, h) * 0.08);
  if (fill) paintShape(canvas, { x0: x, y0: y, x1: x + w, y1: y + h }, body, fill);
  paintShape(canvas, { x0: x - stroke, y0: y - stroke, x1: x + w + stroke, y1: y + h + stroke }, outline(body, stroke), color);
  const inset = stroke * 1.2;
  paintSegment(canvas, x + inset, y + inset, x + w / 2, y + h * 0.55, stroke, color);
  paintSegment(canvas, x + w - inset, y + inset, x + w / 2, y + h * 0.55, stroke, color);
}


function toByte(value: number): number {
  return Math.round(Math.min(Math.max(value, 0), 255));
}

/** The canvas as 8-bit RGB, or RGBA when it has an alpha channel. */
function toBytes(canvas: Canvas): { bytes: Uint8Array; channels: 3 | 4 } {
  const { alpha, pixels } = canvas;
  if (alpha === undefined) return { bytes: Uint8Array.from(pixels, toByte), channels: 3 };
  const bytes = new Uint8Array(alpha.length * 4);
  for (let i = 0; i < alpha.length; i += 1) {
    bytes[i * 4] = toByte(pixels[i * 3] ?? 0);
    bytes[i * 4 + 1] = toByte(pixels[i * 3 + 1] ?? 0);
    bytes[i * 4 + 2] = toByte(pixels[i * 3 + 2] ?? 0);
    bytes[i * 4 + 3] = toByte((alpha[i] ?? 0) * 255);
  }
  return { bytes, channels: 4 };
}

// ---------------------------------------------------------------------------------------------------------------
// The images

const LEAD_WIDTH = 1200;
const LEAD_HEIGHT = 600;

/** Two overlapping circles (the partnership) over a field of clouds on deep blue. */
function drawPartnership(): Canvas {
  const canvas = createCanvas(LEAD_WIDTH, LEAD_HEIGHT);
  fillGradient(canvas, ['#0f1c4d', '#27408b', '#5b3fa0'], 45);
  for (const [cx, cy, r] of [
    [180, 470, 70],
    [250, 440, 90],
    [340, 470, 65],
    [860, 480, 60],
    [930, 450, 85],
    [1010, 480, 55],
  ] as const) {
    paintCircle(canvas, cx, cy, r, '#3a4f9e');
  }
  paintShape(canvas, fullBox(canvas), wave(500, 18, 700, 0.6), '#1a2a66', 0.55);
  paintShape(canvas, fullBox(canvas), wave(540, 14, 520, 2.1), '#142155', 0.7);
  const random = createRandom(7);
  for (let i = 0; i < 40; i += 1) {
    paintCircle(canvas, random() * LEAD_WIDTH, random() * 360, 1.5 + random() * 2.5, '#ffffff', 0.35 + random() * 0.5);
  }
  paintCircle(canvas, 510, 290, 165, '#3fa9f5', 0.85);
  paintCircle(canvas, 690, 290, 165, '#b07cff', 0.75);
  paintShape(canvas, boxAround(510, 290, 170), outline(circle(510, 290, 165), 6), '#ffffff', 0.9);
  paintShape(canvas, boxAround(690, 290, 170), outline(circle(690, 290, 165), 6), '#ffffff', 0.9);
  return canvas;
}

/** A sealed envelope with a shield and check mark on teal. */
function drawAuthentication(): Canvas {
  const canvas = createCanvas(LEAD_WIDTH, LEAD_HEIGHT);
  fillGradient(canvas, ['#0b3d4f', '#0f766e', '#34b3a0'], 45);
  paintCircle(canvas, 600, 300, 270, '#ffffff', 0.05);
  paintCircle(canvas, 600, 300, 210, '#ffffff', 0.05);
  paintEnvelope(canvas, 390, 170, 360, 240, 14, '#ffffff', '#115e59');
  const shield: Distance = (x, y) => {
    // A rounded shield: a circle on top of a downward triangle, approximated by intersecting distances.
    const top = roundedRect(700, 300, 170, 120, 30)(x, y);
    const tip = Math.max(Math.abs(x - 785) * 1.15 + (y - 470), -(y - 380));
    return Math.min(top, tip);
  };
  paintShape(canvas, { x0: 690, y0: 290, x1: 880, y1: 480 }, shield, '#facc15');
  paintSegment(canvas, 748, 370, 775, 398, 14, '#0b3d4f');
  paintSegment(canvas, 775, 398, 826, 340, 14, '#0b3d4f');
  for (const [x, y] of [
    [180, 140],
    [1040, 460],
    [1010, 130],
    [150, 470],
  ] as const) {
    paintShape(canvas, boxAround(x, y, 40), outline(circle(x, y, 30), 5), '#ccfbf1', 0.35);
  }
  return canvas;
}

/** Inbox rows, one of them standing out, on a warm sunset. */
function drawSubjectLines(): Canvas {
  const canvas = createCanvas(LEAD_WIDTH, LEAD_HEIGHT);
  fillGradient(canvas, ['#ff7e5f', '#feb47b', '#ffd89b'], 45);
  paintCircle(canvas, 1050, 120, 220, '#fff4e0', 0.25, 50);
  paintRoundedRect(canvas, 300, 90, 600, 420, 28, '#ffffff', 0.92);
  for (let row = 0; row < 5; row += 1) {
    const y = 130 + row * 74;
    const highlighted = row === 2;
    if (highlighted) paintRoundedRect(canvas, 318, y - 12, 564, 64, 14, '#ffe8d6');
    paintCircle(canvas, 360, y + 20, 20, highlighted ? '#f97316' : '#fdba74');
    paintRoundedRect(canvas, 400, y + 4, highlighted ? 300 : 220 + ((row * 53) % 90), 14, 7, highlighted ? '#7c2d12' : '#c2410c', highlighted ? 1 : 0.55);
    paintRoundedRect(canvas, 400, y + 26, 420 - ((row * 37) % 120), 10, 5, '#9a3412', 0.25);
  }
  paintShape(canvas, boxAround(905, 240, 60), outline(circle(905, 240, 46), 8), '#ffffff', 0.95);
  paintSegment(canvas, 938, 273, 975, 310, 12, '#ffffff', 0.95);
  return canvas;
}

/** Rising bars and a sun over soft hills: a small business growing. */
function drawGrowth(): Canvas {
  const canvas = createCanvas(LEAD_WIDTH, LEAD_HEIGHT);
  fillGradient(canvas, ['#fdf2e9', '#fde2c8', '#f6c9a8'], 90);
  paintCircle(canvas, 930, 170, 90, '#f59e0b', 0.9);
  paintCircle(canvas, 930, 170, 150, '#fbbf24', 0.18, 40);
  paintShape(canvas, fullBox(canvas), wave(470, 22, 900, 0.3), '#d9a679', 0.55);
  paintShape(canvas, fullBox(canvas), wave(520, 16, 640, 2.4), '#b7793f', 0.65);
  const heights = [90, 140, 175, 240, 300];
  heights.forEach((height, index) => {
    const x = 250 + index * 110;
    paintRoundedRect(canvas, x, 470 - height, 70, height + 20, 16, index === heights.length - 1 ? '#9a3412' : '#c2410c', 0.85);
  });
  paintSegment(canvas, 285, 350, 395, 300, 8, '#7c2d12');
  paintSegment(canvas, 395, 300, 505, 265, 8, '#7c2d12');
  paintSegment(canvas, 505, 265, 615, 200, 8, '#7c2d12');
  paintSegment(canvas, 615, 200, 725, 140, 8, '#7c2d12');
  for (const [x, y] of [
    [285, 350],
    [395, 300],
    [505, 265],
    [615, 200],
    [725, 140],
  ] as const) {
    paintCircle(canvas, x, y, 11, '#fff7ed');
    paintShape(canvas, boxAround(x, y, 16), outline(circle(x, y, 11), 5), '#7c2d12');
  }
  return canvas;
}

/** A stage with spotlights and confetti at dusk. */
function drawEvent(): Canvas {
  const canvas = createCanvas(LEAD_WIDTH, LEAD_HEIGHT);
  fillGradient(canvas, ['#1e1b4b', '#5b21b6', '#db2777'], 90);
  for (const [x, tilt] of [
    [300, 1],
    [900, -1],
  ] as const) {
    const beam: Distance = (px, py) => {
      const t = Math.max(py, 0) / 600;
      const centre = x + tilt * (py / 600) * 240;
      return Math.abs(px - centre) - (20 + t * 190);
    };
    paintShape(canvas, fullBox(canvas), beam, '#fde68a', 0.1);
  }
  paintCircle(canvas, 600, 640, 420, '#fbcfe8', 0.1);
  paintRoundedRect(canvas, 220, 430, 760, 60, 18, '#2e1065', 0.9);
  paintRoundedRect(canvas, 540, 330, 120, 110, 16, '#4c1d95');
  paintSegment(canvas, 600, 330, 600, 290, 8, '#e9d5ff');
  paintCircle(canvas, 600, 280, 16, '#e9d5ff');
  paintShape(canvas, fullBox(canvas), wave(560, 10, 300, 0), '#1e1b4b', 0.85);
  const random = createRandom(42);
  const colors = ['#fde68a', '#a7f3d0', '#f9a8d4', '#bfdbfe', '#ffffff'];
  for (let i = 0; i < 70; i += 1) {
    const x = random() * LEAD_WIDTH;
    const y = random() * 380;
    const length = 6 + random() * 10;
    const angle = random() * Math.PI;
    paintSegment(canvas, x, y, x + Math.cos(angle) * length, y + Math.sin(angle) * length, 5, colors[i % colors.length] ?? '#ffffff', 0.8);
  }
  return canvas;
}

/** Three stations (sender, signature, policy) joined by arrows: how SPF, DKIM and DMARC fit together. */
function drawAuthenticationFlow(): Canvas {
  const canvas = createCanvas(1200, 400);
  fillGradient(canvas, ['#f0fdfa', '#e0f2fe'], 0);
  const stations = [
    { x: 110, color: '#0f766e' },
    { x: 490, color: '#0369a1' },
    { x: 870, color: '#7c3aed' },
  ];
  for (const [index, station] of stations.entries()) {
    paintRoundedRect(canvas, station.x + 6, 96, 220, 220, 32, '#0f172a', 0.08);
    paintRoundedRect(canvas, station.x, 90, 220, 220, 32, '#ffffff');
    paintShape(canvas, { x0: station.x - 4, y0: 86, x1: station.x + 224, y1: 314 }, outline(roundedRect(station.x, 90, 220, 220, 32), 6), station.color);
    const cx = station.x + 110;
    if (index === 0) {
      paintEnvelope(canvas, cx - 60, 160, 120, 80, 8, station.color);
    } else if (index === 1) {
      // A key: a ring and a notched shaft.
      paintShape(canvas, boxAround(cx - 35, 200, 40), outline(circle(cx - 35, 200, 26), 10), station.color);
      paintSegment(canvas, cx - 9, 200, cx + 60, 200, 12, station.color);
      paintSegment(canvas, cx + 40, 200, cx + 40, 226, 10, station.color);
      paintSegment(canvas, cx + 58, 200, cx + 58, 222, 10, station.color);
    } else {
      paintRoundedRect(canvas, cx - 50, 150, 100, 110, 22, station.color);
      paintSegment(canvas, cx - 24, 205, cx - 6, 225, 12, '#ffffff');
      paintSegment(canvas, cx - 6, 225, cx + 28, 182, 12, '#ffffff');
    }
  }
  for (const from of [330, 710]) {
    paintSegment(canvas, from + 14, 200, from + 146, 200, 8, '#334155');
    paintSegment(canvas, from + 146, 200, from + 124, 182, 8, '#334155');
    paintSegment(canvas, from + 146, 200, from + 124, 218, 8, '#334155');
  }
  return canvas;
}

/**
 * The Mailroom mark: a white envelope on an indigo-to-teal tile with rounded corners. Outside the tile the image is
 * transparent, so the corners take the color of whatever is behind the logo (a dark header in dark mode) instead of
 * showing white.
 */
function drawLogo(): Canvas {
  const size = 96;
  const canvas: Canvas = { ...createCanvas(size, size), alpha: new Float32Array(size * size) };
  fillGradient(canvas, ['#4f46e5', '#0d9488'], 45);
  const tile = roundedRect(2, 2, 92, 92, 22);
  for (let y = 0; y < size; y += 1) {
    for (let x = 0; x < size; x += 1) {
      canvas.alpha?.set([Math.min(Math.max(0.5 - tile(x + 0.5, y + 0.5), 0), 1)], y * size + x);
    }
  }
  // Inside the tile (alpha 1), so painting over the gradient needs no alpha.
  paintEnvelope(canvas, 22, 30, 52, 36, 5, '#ffffff');
  return canvas;
}

/** Every image the demo content refers to, by file name. */
export const DEMO_IMAGES: Readonly<Record<string, () => Canvas>> = {
  'microsoft-openai-deal.png': drawPartnership,
  'email-authentication.png': drawAuthentication,
  'authentication-flow.png': drawAuthenticationFlow,
  'subject-lines.png': drawSubjectLines,
  'bakery-co-op.png': drawGrowth,
  'inbox-summit-2026.png': drawEvent,
  'logo.png': drawLogo,
};

/** Draws and writes every demo image into `directory`; returns the paths written with their sizes. */
export function writeDemoImages(directory = MEDIA_DIR): { path: string; bytes: number }[] {
  mkdirSync(directory, { recursive: true });
  return Object.entries(DEMO_IMAGES).map(([name, draw]) => {
    const canvas = draw();
    const { bytes, channels } = toBytes(canvas);
    const png = encodePng(canvas.width, canvas.height, bytes, channels);
    const path = join(directory, name);
    writeFileSync(path, png);
    return { path, bytes: png.length };
  });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  for (const { path, bytes } of writeDemoImages()) {
    console.log(`${relative(process.cwd(), path)}  ${(bytes / 1024).toFixed(1)} KB`);
  }
}
