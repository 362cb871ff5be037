/**
 * A Kysely query built and compiled ONCE, then run with new values: for the statements the sending hot path runs per
 * message (claim, record), where building and compiling the query each time cost more than running it. The query is
 * still the one Kysely copy, for every dialect: it is built with a placeholder value per argument, and each run swaps
 * the placeholders in the compiled parameters for the real values.
 */
import { CompiledQuery, type Compilable, type Kysely, type QueryResult } from 'kysely';
import { heldSqliteConnection, runCompiled } from './sqlite-connection.ts';

const PLACEHOLDER = '\u0000mailroom-arg:';

export class ReusableQuery<Args extends Record<string, unknown>> {
  private compiled: { sql: string; parameters: readonly unknown[]; slots: (keyof Args | null)[] } | null = null;

  /** `build` gets `arg(name)`, a placeholder to use wherever the value of that argument goes. */
  constructor(private readonly build: (arg: <K extends keyof Args & string>(name: K) => Args[K]) => Compilable) {}

  async execute<Row = unknown>(db: Kysely<never> | Kysely<unknown> | { executeQuery<R>(query: CompiledQuery<R>): Promise<QueryResult<R>> }, args: Args): Promise<QueryResult<Row>> {
    if (!this.compiled) {
      const query = this.build(((name: string) => `${PLACEHOLDER}${name}`) as <K extends keyof Args & string>(name: K) => Args[K]).compile();
      const slots = query.parameters.map((p) => (typeof p === 'string' && p.startsWith(PLACEHOLDER) ? (p.slice(PLACEHOLDER.length) as keyof Args) : null));
      this.compiled = { sql: query.sql, parameters: query.parameters, slots };
    }
    const { sql, parameters, slots } = this.compiled;
    const values = parameters.map((p, i) => {
      const slot = slots[i];
      return slot === null || slot === undefined ? p : args[slot];
    });
    // Inside a write transaction on SQLite: straight to better-sqlite3 (sqlite-connection.ts), same SQL, same result.
    const sqlite = heldSqliteConnection(db);
    if (sqlite) return runCompiled<Row>(sqlite, sql, values);
    return (db as { executeQuery<R>(query: CompiledQuery<R>): Promise<QueryResult<R>> }).executeQuery(CompiledQuery.raw(sql, values) as CompiledQuery<Row>);
  }
}
