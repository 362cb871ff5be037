/**
 * Renders every template in emails/ with its PreviewProps to <out>/<name>.html and .txt, with the shipped images they
 * show copied to <out>/static/ so the files open from disk without a network: `npx tsx scripts/render-previews.ts [--out data/out]`.
 */

import { cp, mkdir, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { render } from '@react-email/render';
import { createElement } from 'react';
import type { FunctionComponent } from 'react';
import { setPreviewMediaBase } from '../emails/_preview/media.ts';
import { htmlToPlainText } from '../src/rendering/plain-text.ts';

const EMAILS_DIRECTORY = fileURLToPath(new URL('../emails/', import.meta.url));
/** The shipped images (a link to data/media) that React Email's preview server serves at /static/. */
const STATIC_DIRECTORY = path.join(EMAILS_DIRECTORY, 'static');

interface TemplateModule {
  default?: FunctionComponent<Record<string, unknown>> & { PreviewProps?: Record<string, unknown> };
}

/** Template files: the .tsx files directly in emails/ (components/ holds parts, not templates). */
async function listTemplateFiles(): Promise<string[]> {
  const entries = await readdir(EMAILS_DIRECTORY, { withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile() && entry.name.endsWith('.tsx'))
    .map((entry) => entry.name)
    .sort();
}

/** Render each template's PreviewProps into `outDirectory` (created if missing); returns the absolute paths written. */
/** `onRendered`: after each template, how many of how many are written (for a progress bar). */
export async function renderPreviews(outDirectory: string, options: { onRendered?: (done: number, total: number) => void } = {}): Promise<string[]> {
  const out = path.resolve(outDirectory);
  await mkdir(out, { recursive: true });
  // The previews' /static/… images become static/… beside the files written.
  await cp(STATIC_DIRECTORY, path.join(out, 'static'), { recursive: true, dereference: true });
  const previousBase = setPreviewMediaBase('static');
  try {
    return await renderEach(out, options.onRendered);
  } finally {
    setPreviewMediaBase(previousBase);
  }
}

async function renderEach(out: string, onRendered?: (done: number, total: number) => void): Promise<string[]> {
  const written: string[] = [];
  const files = await listTemplateFiles();
  onRendered?.(0, files.length);
  for (const [index, fileName] of files.entries()) {
    const name = path.basename(fileName, '.tsx');
    const module = (await import(pathToFileURL(path.join(EMAILS_DIRECTORY, fileName)).href)) as TemplateModule;
    const template = module.default;
    if (template === undefined) throw new Error(`emails/${fileName} has no default export, so it is not a template`);
    if (template.PreviewProps === undefined)
      throw new Error(`emails/${fileName}: ${template.name} has no PreviewProps`);
    const html = await render(createElement(template, template.PreviewProps));
    const htmlPath = path.join(out, `${name}.html`);
    const textPath = path.join(out, `${name}.txt`);
    await writeFile(htmlPath, html, 'utf8');
    await writeFile(textPath, htmlToPlainText(html), 'utf8');
    written.push(htmlPath, textPath);
    onRendered?.(index + 1, files.length);
  }
  return written;
}

/** Run as a script (not imported by the CLI): parse `--out` and print each path written. */
const isMain = process.argv[1] !== undefined && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href;
if (isMain) {
  const { values } = parseArgs({ options: { out: { type: 'string', default: 'data/out' } } });
  for (const written of await renderPreviews(values.out ?? 'data/out')) console.log(written);
}
