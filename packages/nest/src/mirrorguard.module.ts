import { createGuards, requestContextMiddleware, type CreateGuardsOptions, type Guards, type ProviderMap } from '@mirrorguard/core';
import { Inject, Injectable, Module, type DynamicModule, type MiddlewareConsumer, type ModuleMetadata, type NestModule, type OnApplicationShutdown, type Provider } from '@nestjs/common';
import { getGuardToken, MIRRORGUARD_GUARDS, MIRRORGUARD_OPTIONS } from './tokens.ts';

export interface MirrorGuardModuleOptions extends CreateGuardsOptions<ProviderMap> {
  /** Set request context (request id, method, path) for every request. Default true. */
  readonly requestContext?: boolean;
}

export interface MirrorGuardModuleAsyncOptions {
  readonly imports?: ModuleMetadata['imports'];
  readonly inject?: ReadonlyArray<string | symbol | (abstract new (...args: never[]) => unknown) | (new (...args: never[]) => unknown)>;
  readonly useFactory: (...args: never[]) => MirrorGuardModuleOptions | Promise<MirrorGuardModuleOptions>;
  /** The provider names to make injectable (`@InjectGuard(name)`): the factory's providers are not known before it runs. */
  readonly names: readonly string[];
  /** Make the module global: its tokens injectable everywhere without importing it. */
  readonly global?: boolean;
}

/** Closes the guards when the application shuts down (`app.close()`, or a signal with shutdown hooks enabled). */
class GuardsLifecycle implements OnApplicationShutdown {
  readonly #guards: Guards<ProviderMap>;

  constructor(guards: Guards<ProviderMap>) {
    this.#guards = guards;
  }

  async onApplicationShutdown(): Promise<void> {
    await this.#guards.close();
  }
}
Injectable()(GuardsLifecycle);
Inject(MIRRORGUARD_GUARDS)(GuardsLifecycle, undefined, 0);

/**
 * The guards as a NestJS module: `createGuards` runs once, its instances are providers (tokens by
 * name, see `getGuardToken` and the `Inject…` decorators), every request runs with request context,
 * and the guards close when the application shuts down. Written without decorator syntax, so the
 * module needs no compiler setting of its own.
 */
export class MirrorGuardModule implements NestModule {
  readonly #options: MirrorGuardModuleOptions;

  constructor(options: MirrorGuardModuleOptions) {
    this.#options = options;
  }

  /** The module for guards built from `options` (the same as `createGuards`'), made global with `global: true`. */
  static forRoot(options: MirrorGuardModuleOptions & { readonly global?: boolean }): DynamicModule {
    return MirrorGuardModule.#module(Object.keys(options.providers), [{ provide: MIRRORGUARD_OPTIONS, useValue: options }], options.global ?? false, []);
  }

  /** The module for guards built from the options a factory returns (config services and the like through `inject`). */
  static forRootAsync(options: MirrorGuardModuleAsyncOptions): DynamicModule {
    const factory: Provider = { provide: MIRRORGUARD_OPTIONS, useFactory: options.useFactory as (...args: unknown[]) => unknown, inject: [...(options.inject ?? [])] as never };
    return MirrorGuardModule.#module(options.names, [factory], options.global ?? false, options.imports ?? []);
  }

  static #module(names: readonly string[], optionProviders: Provider[], global: boolean, imports: NonNullable<ModuleMetadata['imports']>): DynamicModule {
    const guards: Provider = { provide: MIRRORGUARD_GUARDS, useFactory: (options: MirrorGuardModuleOptions) => createGuards(options), inject: [MIRRORGUARD_OPTIONS] };
    const instances: Provider[] = names.map((name) => ({
      provide: getGuardToken(name),
      useFactory: (built: Guards<ProviderMap>) => (built as unknown as Record<string, unknown>)[name],
      inject: [MIRRORGUARD_GUARDS],
    }));
    const exported = [MIRRORGUARD_GUARDS, ...names.map(getGuardToken)];
    return { module: MirrorGuardModule, global, imports, providers: [...optionProviders, guards, ...instances, GuardsLifecycle], exports: exported };
  }

  configure(consumer: MiddlewareConsumer): void {
    if (this.#options.requestContext === false) return;
    consumer.apply(requestContextMiddleware()).forRoutes('{*path}');
  }
}
Module({})(MirrorGuardModule);
Inject(MIRRORGUARD_OPTIONS)(MirrorGuardModule, undefined, 0);
