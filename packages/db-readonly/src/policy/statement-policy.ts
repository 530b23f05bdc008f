import { classifyMysqlStatement, classifyStatement } from '../classifier/classify-statement.ts';
import type { StatementClassification } from '../classifier/statement-classification.ts';
import type { LexOptions } from '../classifier/lex-sql.ts';
import { ReadOnlyViolationError } from '../errors/read-only-violation-error.ts';
import type { ResolvedGuardOptions } from './guard-options.ts';
import { hasOnlyRealPlaceholders, hasPlainValues, readsLikeTemplate } from './query-template.ts';

/** The OK result a simulated write is answered with: the fields of mysql2's `ResultSetHeader`. */
export interface SimulatedResult {
  readonly fieldCount: 0;
  readonly affectedRows: number;
  readonly insertId: number;
  readonly info: string;
  readonly serverStatus: number;
  readonly warningStatus: 0;
  readonly changedRows: number;
}

export type Decision =
  /** `changesSession`: a session setting (a SET), after which the guard reads the session back. */
  | { readonly outcome: 'pass'; readonly changesSession: boolean }
  | { readonly outcome: 'reject'; readonly error: ReadOnlyViolationError }
  | { readonly outcome: 'simulate'; readonly result: SimulatedResult };

const PASS: Decision = { outcome: 'pass', changesSession: false };
const PASS_SESSION: Decision = { outcome: 'pass', changesSession: true };
const SERVER_STATUS_AUTOCOMMIT = 2;
const CACHE_LIMIT = 1_000;

/** Remembers `value` under `key`, forgetting the oldest entry once the cache holds CACHE_LIMIT. */
function remember<V>(cache: Map<string, V>, key: string, value: V): V {
  if (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value!);
  cache.set(key, value);
  return value;
}

/** A query() as intercepted: the text to be sent and, where mysql2 kept them, its template and values. */
export interface InterceptedQuery {
  readonly sql: string;
  readonly template?: unknown;
  readonly values?: unknown;
}

interface TemplateVerdict {
  readonly verdict: StatementClassification;
  /** The verdict holds for every plain filling of the template. */
  readonly holdsForPlainValues: boolean;
  /** The template split at its placeholders, to check that a text is one of its fillings. */
  readonly pieces: readonly string[];
}

// Kinds whose verdict cannot depend on a literal: a SET's can (sql_mode, the read-only switch).
const VALUE_INDEPENDENT_KINDS = new Set(['read', 'write', 'ddl']);

export interface DecideOptions {
  /** False where no local answer can stand in (a prepared statement). */
  readonly canSimulate: boolean;
  /** The text to journal, when it is not the statement classified (SQLite: the statement with its parameters in place). */
  readonly operation?: string;
  /** How many insert ids a simulated INSERT takes (the rows of a multi-row INSERT); 1 by default. */
  readonly insertedRows?: number;
  /** A statement prepared on the server: only reads and transaction control may be, since its executions are not read back. */
  readonly prepared?: boolean;
  /** How the session lexes statements (from its sql_mode); undefined when unknown. */
  readonly lexing?: LexOptions | undefined;
}

/**
 * Classifies each statement, applies the policy and journals what it refused or simulated. One per
 * guarded module; templates (prepared statements) are cached, formatted query text is not.
 */
/** The cache slot of a session's lexing: 0 for a session of unknown sql_mode, 1–4 for the four known readings. */
const lexingSlot = (lexing: LexOptions | undefined): number =>
  lexing === undefined ? 0 : 1 + (lexing.backslashEscapes ? 0 : 1) + (lexing.ansiQuotes === true ? 2 : 0);

export class StatementPolicy {
  readonly options: ResolvedGuardOptions;
  #nextInsertId: number;
  // One cache per lexing slot: the same text reads differently under another sql_mode.
  readonly #templates = Array.from({ length: 5 }, () => new Map<string, StatementClassification>());
  readonly #queryTemplates = Array.from({ length: 5 }, () => new Map<string, TemplateVerdict>());

  constructor(options: ResolvedGuardOptions) {
    this.options = options;
    this.#nextInsertId = options.firstSimulatedInsertId;
  }

  #classifyText(sql: string, lexing: LexOptions | undefined): StatementClassification {
    return this.options.dialect === 'sqlite' ? classifyStatement(sql, { dialect: 'sqlite' }) : classifyMysqlStatement(sql, lexing);
  }

  /** The verdict for `sql` as a session lexing it with `lexing` (undefined: sql_mode unknown) reads it. */
  classify(sql: string, cacheable: boolean, lexing?: LexOptions): StatementClassification {
    if (!cacheable) return this.#classifyText(sql, lexing);
    const templates = this.#templates[lexingSlot(lexing)]!;
    let verdict = templates.get(sql);
    if (verdict === undefined) {
      verdict = this.#classifyText(sql, lexing);
      remember(templates, sql, verdict);
    }
    return verdict;
  }

  /**
   * The verdict for a query(): from the cached template when that provably reads the same as the
   * text to be sent (plain values, real placeholders, a kind no literal can change, and the text is
   * the template filled with plain literals), else from the text itself.
   */
  classifyQuery(query: InterceptedQuery, lexing?: LexOptions): StatementClassification {
    const { template } = query;
    if (typeof template === 'string' && hasPlainValues(query.values)) {
      const templates = this.#queryTemplates[lexingSlot(lexing)]!;
      let cached = templates.get(template);
      if (cached === undefined) {
        const verdict = this.#classifyText(template, lexing);
        cached = { verdict, holdsForPlainValues: VALUE_INDEPENDENT_KINDS.has(verdict.kind) && hasOnlyRealPlaceholders(template, lexing), pieces: template.split('?') };
        remember(templates, template, cached);
      }
      if (cached.holdsForPlainValues && (query.sql === template || readsLikeTemplate(query.sql, cached.pieces))) return cached.verdict;
    }
    return this.#classifyText(query.sql, lexing);
  }

  /** Whether the policy would simulate this statement rather than refuse or pass it. */
  simulates(verdict: StatementClassification): boolean {
    return !verdict.allowed && this.options.policy === 'simulate' && (verdict.kind === 'write' || verdict.kind === 'ddl');
  }

  /**
   * Decides, and journals a refusal or a simulation. Call it where the statement is intercepted,
   * synchronously: a prepared statement's text (cached), or a query as intercepted. `canSimulate:
   * false` where no local answer can stand in (a prepared statement).
   */
  decide(statement: string | InterceptedQuery, { canSimulate, operation, insertedRows = 1, lexing, prepared = false }: DecideOptions): Decision {
    const sql = operation ?? (typeof statement === 'string' ? statement : statement.sql);
    let verdict = typeof statement === 'string' ? this.classify(statement, true, lexing) : this.classifyQuery(statement, lexing);
    if (verdict.allowed && prepared && verdict.kind === 'session') {
      verdict = { ...verdict, allowed: false, kind: 'unknown', reason: 'a session setting cannot be prepared: the guard reads the session back after each SET it sends as a query' };
    }
    if (verdict.allowed) return verdict.kind === 'session' ? PASS_SESSION : PASS;
    if (canSimulate && this.simulates(verdict)) {
      const insert = verdict.keyword === 'INSERT' || verdict.keyword === 'REPLACE';
      const insertId = insert ? this.#nextInsertId : 0;
      if (insert) this.#nextInsertId += insertedRows;
      const result: SimulatedResult = {
        fieldCount: 0,
        affectedRows: verdict.kind === 'write' ? 1 : 0,
        insertId,
        info: '',
        serverStatus: SERVER_STATUS_AUTOCOMMIT,
        warningStatus: 0,
        changedRows: verdict.keyword === 'UPDATE' ? 1 : 0,
      };
      this.options.journal.record({ dependency: 'db', action: 'simulated', operation: sql, reason: verdict.reason });
      return { outcome: 'simulate', result };
    }
    const reason = this.simulates(verdict) ? `${verdict.reason} (a prepared statement cannot be simulated)` : verdict.reason;
    this.options.journal.record({ dependency: 'db', action: 'blocked', operation: sql, reason });
    return { outcome: 'reject', error: new ReadOnlyViolationError(sql, verdict.kind, reason) };
  }
}
