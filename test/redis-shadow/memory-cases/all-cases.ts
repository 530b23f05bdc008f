import type { ConformanceCase } from './case.ts';
import { hashCases } from './hashes.cases.ts';
import { keyCases } from './keys.cases.ts';
import { listCases } from './lists.cases.ts';
import { setCases } from './sets.cases.ts';
import { sortCases } from './sort.cases.ts';
import { sortedSetCases } from './sorted-sets.cases.ts';
import { stringCases } from './strings.cases.ts';

/** Every conformance case, by family: the memory engine's test runs them, and the benchmark replays them on ioredis-mock. */
export const CASES_BY_FAMILY: Readonly<Record<string, readonly ConformanceCase[]>> = {
  strings: stringCases,
  keys: keyCases,
  hashes: hashCases,
  lists: listCases,
  sets: setCases,
  'sorted sets': sortedSetCases,
  sort: sortCases,
};

export const CONFORMANCE_CASES: readonly ConformanceCase[] = Object.values(CASES_BY_FAMILY).flat();
