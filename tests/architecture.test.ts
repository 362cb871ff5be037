/**
 * The composition root (src/app.ts, src/store/open-store.ts) is the one place that builds concrete stores: every other
 * module declares the store methods it needs as an interface of its own and is handed app.stores. This reads every
 * import in src/ and fails when a module outside src/store/ and src/app.ts imports a store class from a *-store.ts.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..');
const SRC = join(ROOT, 'src');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return /\.tsx?$/.test(entry.name) ? [path] : [];
  });
}

/** Every class exported by a src/store/*-store.ts file, by file name. */
function storeClasses(): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const name of readdirSync(join(SRC, 'store')).filter((f) => f.endsWith('-store.ts'))) {
    const text = readFileSync(join(SRC, 'store', name), 'utf8');
    out.set(name, new Set([...text.matchAll(/^export (?:abstract )?class (\w+)/gm)].map((m) => m[1] ?? '')));
  }
  return out;
}

/** `file: Class` for every import of a concrete store class (type-only imports too) outside the composition root. */
export function storeClassImports(files: readonly string[]): string[] {
  const classes = storeClasses();
  const found: string[] = [];
  for (const file of files) {
    const rel = relative(ROOT, file);
    if (rel.startsWith('src/store/') || rel === 'src/app.ts') continue;
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/import\s+(?:type\s+)?\{([^}]*)\}\s*from\s*'([^']*\/store\/([a-z-]+-store)\.ts)'/g)) {
      const exported = classes.get(`${m[3]}.ts`) ?? new Set<string>();
      const names = (m[1] ?? '').split(',').map((n) => n.trim().replace(/^type\s+/, '').split(/\s+as\s+/)[0] ?? '');
      for (const name of names) if (exported.has(name)) found.push(`${rel}: ${name}`);
    }
  }
  return found.sort();
}

describe('architecture: consumers depend on interfaces they own, not on concrete stores', () => {
  it('no module outside src/store/ and src/app.ts imports a concrete store class', () => {
    const found = storeClassImports(sourceFiles(SRC));
    expect(found).toEqual([]);
  });

  it('finds a store class import, type-only or not', () => {
    const classes = [...storeClasses().values()].flatMap((s) => [...s]);
    expect(classes).toEqual(expect.arrayContaining(['ContentStore', 'AudienceStore', 'NewsletterStore', 'ScheduleStore', 'SqlCampaignStore', 'SubscriberStore', 'FeedStore']));
    expect(storeClassImports([join(SRC, 'app.ts')])).toEqual([]);
  });
});
