import type { ConformanceCase } from './case.ts';

export const hashCases: ConformanceCase[] = [];
