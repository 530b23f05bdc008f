import type { ConformanceCase } from './case.ts';

export const setCases: ConformanceCase[] = [];
