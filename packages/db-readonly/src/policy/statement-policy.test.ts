import mysql2 from 'mysql2';

// mysql2's own formatting, the reference: what query() sends for a template and values.
const format = (template: string, values: unknown[]): string => mysql2.format(template, values as never);
import { describe, expect, it } from 'vitest';
import { createJournal, memorySink } from '@mirrorguard/core';
import { CORPUS } from '../../../../test/db-readonly/sql-corpus.ts';
import { classifyStatement } from '../classifier/classify-statement.ts';
import { resolveGuardOptions } from './guard-options.ts';
import { hasOnlyRealPlaceholders, hasPlainValues, readsLikeTemplate } from './query-template.ts';
import { StatementPolicy } from './statement-policy.ts';

const policy = (options: Parameters<typeof resolveGuardOptions>[0] = {}) => new StatementPolicy(resolveGuardOptions(options));

// Plain values chosen to hurt if a template verdict were reused wrongly: keywords, comment and
// statement markers, function names, all without quotes or backslashes.
const PLAIN_VALUE_SETS: unknown[][] = [
  [1],
  ['FOR UPDATE'],
  ['GET_LOCK(1)'],
  ['; DELETE FROM orders'],
  ['*/ DROP TABLE x /*'],
  ['-- x'],
  ['# x'],
  ['INTO OUTFILE x'],
  [true, null, undefined],
  [new Date(0), 123n, -4.5],
];
const ADVERSARIAL_TEMPLATES = [
  "SELECT '?' FROM products",
  'SELECT * FROM products WHERE id = ? -- ?',
  'SELECT * FROM products WHERE id = ? /* ? */',
  'SELECT `?` FROM products',
  'SELECT ??(1)',
  'SELECT ? FROM ??',
  'SET sql_mode = ?',
  'SET tx_read_only = ?',
  'SELECT ?, ? FROM products WHERE name = ? LIMIT ?',
  'SELECT a? FROM products',
  "SELECT 'it\\'s ?' FROM products WHERE id = ?",
];

describe('StatementPolicy.classifyQuery', () => {
  it('reuses a template verdict only where it reads the same as the text mysql2 sends', () => {
    const subject = policy();
    const templates = [...CORPUS.map((entry) => entry.sql), ...ADVERSARIAL_TEMPLATES];
    let reused = 0;
    for (const template of templates) {
      const marks = template.split('?').length - 1;
      for (const set of PLAIN_VALUE_SETS) {
        const values = Array.from({ length: Math.max(marks, 1) }, (_, i) => set[i % set.length]);
        const sql = format(template, values);
        const viaTemplate = subject.classifyQuery({ sql, template, values });
        const direct = classifyStatement(sql);
        expect({ template, values: values.map(String), allowed: viaTemplate.allowed }).toEqual({ template, values: values.map(String), allowed: direct.allowed });
        if (!direct.allowed) expect(viaTemplate.kind).toBe(direct.kind);
        if (viaTemplate !== direct && hasOnlyRealPlaceholders(template, undefined)) reused += 1;
      }
    }
    expect(reused).toBeGreaterThan(100);
  });

  it('falls back to the sent text for the cases a template cannot speak for', () => {
    const subject = policy();
    const check = (template: string, values: unknown[]) => subject.classifyQuery({ sql: format(template, values), template, values });
    // Current mysql2 leaves a quoted `?` alone (older versions filled it in); either way the text sent decides.
    expect(check("SELECT '?' FROM products", ['FOR UPDATE'])).toEqual(classifyStatement(format("SELECT '?' FROM products", ['FOR UPDATE'])));
    expect(check('SELECT ??(1)', ['GET_LOCK'])).toMatchObject({ allowed: false, kind: 'lock' });
    expect(check('SET sql_mode = ?', ['ORACLE'])).toMatchObject({ allowed: false });
    expect(check('SELECT ?', ["x' , GET_LOCK('a', 1), '"])).toMatchObject({ allowed: false, kind: 'lock' });
    expect(check('SELECT ?', [mysql2.raw('GET_LOCK(1, 1)')])).toMatchObject({ allowed: false, kind: 'lock' });
  });

  // A Query whose `sql` was changed after mysql2 formatted it (createQuery() passed to query(), a
  // property set later) keeps its template and plain values: the template must not speak for it.
  it('classifies a text that is not a filling of its template as sent', () => {
    const subject = policy();
    const template = 'SELECT 1 FROM dual WHERE 1 = ?';
    expect(subject.classifyQuery({ sql: format(template, [1]), template, values: [1] })).toMatchObject({ allowed: true });
    for (const sql of ["SELECT GET_LOCK('a', 0)", "SELECT 1 FROM dual WHERE 1 = 1 AND GET_LOCK('a', 0)", "SELECT 1 FROM dual WHERE 1 = GET_LOCK('a', 0)"]) {
      expect(subject.classifyQuery({ sql, template, values: [1] })).toMatchObject({ allowed: false, kind: 'lock' });
    }
  });

  it('recognises what mysql2 formats from plain values as a filling of the template', () => {
    for (const template of [...CORPUS.map((entry) => entry.sql), ...ADVERSARIAL_TEMPLATES]) {
      if (!hasOnlyRealPlaceholders(template, undefined)) continue;
      const marks = template.split('?').length - 1;
      for (const set of PLAIN_VALUE_SETS) {
        const values = Array.from({ length: Math.max(marks, 1) }, (_, i) => set[i % set.length]);
        expect({ template, values: values.map(String), reads: readsLikeTemplate(format(template, values), template.split('?')) }).toEqual({ template, values: values.map(String), reads: true });
      }
    }
    expect(readsLikeTemplate("SELECT 'x' , GET_LOCK(1, 0)", ['SELECT ', ''])).toBe(false);
    expect(readsLikeTemplate("SELECT 'a\\'", ['SELECT ', ''])).toBe(false);
  });

  it('knows which values are plain and which placeholders are real', () => {
    expect(hasPlainValues([1, 'a b', null, true, new Date(0), 2n, undefined])).toBe(true);
    for (const value of ["it's", 'back\\slash', 'line\nfeed', { a: 1 }, [1], Buffer.from('x'), Number.NaN, mysql2.raw('1')]) {
      expect(hasPlainValues([value])).toBe(false);
    }
    expect(hasOnlyRealPlaceholders('SELECT ? FROM t WHERE a = ?', undefined)).toBe(true);
    expect(hasOnlyRealPlaceholders("SELECT '?'", undefined)).toBe(false);
    expect(hasOnlyRealPlaceholders('SELECT ?? FROM t', undefined)).toBe(false);
  });
});

describe('StatementPolicy.decide', () => {
  it('journals a refusal with the text sent, and simulates only where it can', () => {
    const sink = memorySink();
    const subject = policy({ policy: 'simulate', journal: createJournal({ profile: 'mirror', sinks: [sink] }), firstSimulatedInsertId: 10 });
    const template = 'INSERT INTO t (a) VALUES (?)';
    expect(subject.decide({ sql: format(template, [7]), template, values: [7] }, { canSimulate: true })).toMatchObject({
      outcome: 'simulate',
      result: { insertId: 10, affectedRows: 1 },
    });
    expect(subject.decide(template, { canSimulate: false })).toMatchObject({ outcome: 'reject', error: { errno: 1792 } });
    expect(sink.events().map((event) => [event.action, event.operation])).toEqual([
      ['simulated', 'INSERT INTO t (a) VALUES (7)'],
      ['blocked', template],
    ]);
    expect(sink.events()[1]?.reason).toContain('a prepared statement cannot be simulated');
  });
});
