import { Inject } from '@nestjs/common';
import { getGuardToken, MIRRORGUARD_GUARDS } from './tokens.ts';

type InjectDecorator = PropertyDecorator & ParameterDecorator;

/** Injects the instance the provider named `name` built: `@InjectGuard('payments') client: HttpStub`. */
export function InjectGuard(name: string): InjectDecorator {
  return Inject(getGuardToken(name));
}

/** Injects the TypeORM DataSource of the provider named `db` (or `name`): typeormProvider's, guarded in mirror. */
export function InjectGuardedDataSource(name = 'db'): InjectDecorator {
  return InjectGuard(name);
}

/** Injects the ioredis client of the provider named `redis` (or `name`): a ShadowRedis in mirror, a MemoryRedis in test. */
export function InjectGuardedRedis(name = 'redis'): InjectDecorator {
  return InjectGuard(name);
}

/** Injects the HTTP stub of the provider named `http` (or `name`): its `dispatcher` for undici clients. */
export function InjectHttpStub(name = 'http'): InjectDecorator {
  return InjectGuard(name);
}

/** Injects the whole `Guards` object (every instance, the journal, `close()`). */
export function InjectGuards(): InjectDecorator {
  return Inject(MIRRORGUARD_GUARDS);
}
