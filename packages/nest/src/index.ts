export { MirrorGuardModule } from './mirrorguard.module.ts';
export type { MirrorGuardModuleAsyncOptions, MirrorGuardModuleOptions } from './mirrorguard.module.ts';
export { InjectGuard, InjectGuardedDataSource, InjectGuardedRedis, InjectGuards, InjectHttpStub } from './inject.ts';
export { getGuardToken, MIRRORGUARD_GUARDS, MIRRORGUARD_OPTIONS } from './tokens.ts';
