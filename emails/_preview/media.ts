/**
 * Where the preview props find their images: the demo images shipped in data/media, which `emails/static` links to,
 * so React Email's preview server (`npm run dev`) serves them at /static/… without any network.
 */

let mediaBase = '/static';

/** The URL of a shipped image in previews, e.g. `previewImage('logo.png')` → `/static/logo.png`. */
export function previewImage(fileName: string): string {
  return `${mediaBase}/${fileName}`;
}

/**
 * Serve preview images from elsewhere: `templates render` writes files meant to be opened from disk, so it points
 * them at the folder itself (a file: URL). Returns the previous base.
 */
export function setPreviewMediaBase(base: string): string {
  const previous = mediaBase;
  mediaBase = base.replace(/\/+$/, '');
  return previous;
}
