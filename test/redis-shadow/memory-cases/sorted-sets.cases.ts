import type { ConformanceCase } from './case.ts';

export const sortedSetCases: ConformanceCase[] = [];
