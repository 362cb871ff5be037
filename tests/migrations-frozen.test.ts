/**
 * Migrations do the same thing whenever they run: they hold their own code and import nothing from the application
 * outside the store (src/store/), whose modules define their tables. The preheader migration's frozen copy of the
 * literal escaping must still agree with the application's (if the escaping changes, stored sources need a migration).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { literalSource } from '../src/personalization/template-source.ts';
import { preheaderAsSource } from '../src/store/migrations.ts';

describe('migrations', () => {
  test('import only kysely and the store', () => {
    const source = readFileSync(new URL('../src/store/migrations.ts', import.meta.url), 'utf8');
    const imports = [...source.matchAll(/^import [^;]*? from '([^']+)';/gms)].map((m) => m[1]);
    expect(imports.length).toBeGreaterThan(0);
    expect(imports.filter((from) => from !== 'kysely' && !/^\.\/[\w-]+\.ts$/.test(from ?? ''))).toEqual([]);
  });

  test("the preheader migration's frozen escaping agrees with literalSource", () => {
    const samples = ['', 'plain text', 'Hello {{firstName}}', '{{{triple}}}', 'a \\{{b}}', 'back\\\\{{x}}', 'nul\0here', '{{', '}}{{', 'ends with \\', '{ {{ { }}'];
    for (const text of samples) expect(preheaderAsSource(text), JSON.stringify(text)).toBe(literalSource(text));
  });
});
