// The layering of packages/*/src, checked by `npm run lint:deps` (scripts/lint-deps.ts) in CI.
// Tests (*.test.ts) and dist/ are not cruised. See "Layering" in the README.

/**
 * Within a package, folders in tiers, lowest first: a folder imports only from lower tiers
 * (never from a folder of its own tier, nor from a higher one). The package's root files
 * (index.ts) are the top and may import anything. One rule per folder, so a violation names
 * the layer it breaks.
 */
function layers(pkg, tiers) {
  const src = `^packages/${pkg}/src/`;
  return tiers.flatMap((tier, level) =>
    tier.map((folder) => {
      const above = tiers.slice(level).flat().filter((other) => other !== folder);
      return {
        name: `layer-${pkg}-${folder}`,
        severity: 'error',
        comment: `${pkg}: ${folder}/ imports none of ${above.join(', ')} (layers, lowest first: ${tiers
          .map((t) => t.join(' '))
          .join(' < ')} < index.ts)`,
        from: { path: `${src}${folder}/` },
        to: { path: `${src}(${above.join('|')})/` },
      };
    }),
  );
}

const ours = (names) => `^packages/(${names.join('|')})/`;

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'No import cycles, type-only imports included, within or across packages.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'no-unresolvable-mirrorguard',
      severity: 'error',
      comment:
        'An @mirrorguard/* import that does not resolve (to packages/<name>/src through ' +
        'tsconfig.base.json paths) would slip past the package rules below.',
      from: {},
      to: { path: '^@mirrorguard/', couldNotResolve: true },
    },

    // Packages: core is the bottom, the guards build on core only, nest may use any.
    {
      name: 'package-core',
      severity: 'error',
      comment: '@mirrorguard/core imports no other @mirrorguard package.',
      from: { path: '^packages/core/' },
      to: { path: ours(['db-readonly', 'http-stub', 'redis-shadow', 'nest']) },
    },
    ...['db-readonly', 'http-stub', 'redis-shadow'].map((pkg) => ({
      name: `package-${pkg}`,
      severity: 'error',
      comment: `@mirrorguard/${pkg} imports only @mirrorguard/core among our packages.`,
      from: { path: `^packages/${pkg}/` },
      to: {
        path: ours(['db-readonly', 'http-stub', 'redis-shadow', 'nest'].filter((p) => p !== pkg)),
      },
    })),

    {
      name: 'src-not-to-dev-folders',
      severity: 'error',
      comment: 'Published sources import nothing from the tests, benchmarks, demo, examples or conformance suites.',
      from: { path: '^packages/[^/]+/src/' },
      to: { path: ['^(test|bench|demo|examples|conformance)/', '^packages/[^/]+/(test|bench)/'] },
    },

    // Layers within packages, as the imports run today.
    ...layers('core', [
      ['errors', 'redact'],
      ['profile', 'context'],
      ['journal'],
      ['egress', 'diff'],
      ['provider', 'cli'],
    ]),
    ...layers('db-readonly', [
      ['classifier'],
      ['errors'],
      ['policy'],
      ['server'],
      ['mysql2', 'sqlite'],
      ['typeorm'],
    ]),
    ...layers('http-stub', [
      ['errors', 'exchange'],
      ['dispatch', 'store'],
      ['stub'],
      ['provider'],
    ]),
    ...layers('redis-shadow', [
      ['errors', 'protocol', 'commands', 'connection'],
      ['memory'],
      ['shadow'],
      ['routing'],
      ['client'],
      ['connector', 'provider'],
    ]),
  ],
  options: {
    // typescript 7.0 (the root devDependency) has no JS API dependency-cruiser can use (it takes
    // typescript <7 or >=7.1), so the TypeScript sources are parsed with swc (@swc/core).
    // swc reports type-only imports as dependencies of their own (dependencyTypes 'type-only'),
    // which is what tsPreCompilationDeps: true does with tsc: they count for every rule here.
    // (tsPreCompilationDeps itself needs tsc, and only makes depcruise warn without it.)
    parser: 'swc',
    // nodenext with explicit .ts extensions; @mirrorguard/* resolve through the paths of
    // tsconfig.base.json to packages/<name>/src/index.ts (their package.json exports name dist/).
    tsConfig: { fileName: 'tsconfig.base.json' },
    exclude: { path: ['\\.test\\.ts$', '(^|/)dist/'] },
    doNotFollow: { path: 'node_modules' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.js', '.mjs', '.cjs', '.json'],
    },
    moduleSystems: ['es6', 'cjs'],
  },
};
