import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts', 'tests/**/*.test.tsx'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Two files at a time (vitest's default on 2 cores is one): most of a file's time is waiting on sockets, timers
    // and child processes, so two files share the cores well. Full suite, back to back on a 2-core machine: 637 s at
    // 1 worker, 323 s at 2 (`npx vitest run --maxWorkers=1` vs `--maxWorkers=2`).
    maxWorkers: 2,
  },
});
