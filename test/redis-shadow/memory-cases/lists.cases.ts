import type { ConformanceCase } from './case.ts';

export const listCases: ConformanceCase[] = [];
