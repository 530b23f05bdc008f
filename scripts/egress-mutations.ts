// Mutation check of the egress lockdown: takes out one enforcement line at a time and runs the tests
// that must then fail. Prints a table; exits 1 if any mutation survives. Restores every file, even
// when interrupted. Run: node scripts/egress-mutations.ts [name-filter]
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';

interface Mutation {
  readonly name: string;
  readonly file: string;
  readonly from: string;
  readonly to: string;
  readonly tests: readonly string[];
}

const EGRESS = 'packages/core/src/egress';
const T = (name: string): string => `test/core/egress-${name}.test.ts`;

const MUTATIONS: readonly Mutation[] = [
  {
    name: 'tcp_wrap connect check',
    file: `${EGRESS}/guard-handles.ts`,
    from: "return allowsAddress(this, address, port) ? original.apply(this, args) : refuseAddress(this, 'tcp', 'connect', address, port, layer);",
    to: 'return original.apply(this, args);',
    tests: [T('clients'), T('layers')],
  },
  {
    name: 'pipe_wrap connect check',
    file: `${EGRESS}/guard-handles.ts`,
    from: "if (typeof path === 'string' && policy.path(path) !== undefined) return original.apply(this, args);",
    to: 'return original.apply(this, args);',
    tests: [T('clients'), T('layers')],
  },
  {
    name: 'udp_wrap send check',
    file: `${EGRESS}/guard-handles.ts`,
    from: "return allowsAddress(this, address, port) ? original.apply(this, args) : refuseAddress(this, 'udp', 'send', address, port, layer);",
    to: 'return original.apply(this, args);',
    tests: [T('layers')],
  },
  {
    name: 'udp_wrap connect check',
    file: `${EGRESS}/guard-handles.ts`,
    from: "return allowsAddress(this, address, port) ? original.apply(this, args) : refuseAddress(this, 'udp', 'connect', address, port, layer);",
    to: 'return original.apply(this, args);',
    tests: [T('layers')],
  },
  {
    name: 'process_wrap spawn check',
    file: `${EGRESS}/guard-handles.ts`,
    from: '      if (policy.childProcesses) return original.apply(this, args);\n      // Node 24',
    to: '      return original.apply(this, args);\n      // Node 24',
    tests: [T('processes')],
  },
  {
    name: 'spawn_sync check',
    file: `${EGRESS}/guard-handles.ts`,
    from: '      if (policy.childProcesses) return original.apply(this, args);\n      throw refuseSpawn',
    to: '      return original.apply(this, args);\n      throw refuseSpawn',
    tests: [T('processes')],
  },
  {
    name: 'socket layer: address refusal without the handle layer',
    file: `${EGRESS}/guard-net.ts`,
    from: 'if (enforce && policy.address(host, port) === undefined) {',
    to: 'if (false) {',
    tests: [T('preload')],
  },
  {
    name: 'socket layer: path refusal without the handle layer',
    file: `${EGRESS}/guard-net.ts`,
    from: 'if (enforce && policy.path(path) === undefined) {',
    to: 'if (false) {',
    tests: [T('preload')],
  },
  {
    name: 'socket layer: refusal after lookup without the handle layer',
    file: `${EGRESS}/guard-net.ts`,
    from: "if (enforce) return done(refuseAfterLookup(addresses), Array.isArray(address) ? [] : '', family);",
    to: '',
    tests: [T('preload')],
  },
  {
    name: 'socket layer: lookup narrowed to granted addresses',
    file: `${EGRESS}/guard-net.ts`,
    from: 'const kept = Array.isArray(address) ? address.filter((entry) => granted(entry.address)) : granted(String(address)) ? address : [];',
    to: 'const kept = address;',
    tests: [T('layers')],
  },
  {
    name: 'socket layer: hostname grant approves the socket',
    file: `${EGRESS}/guard-net.ts`,
    from: 'if (byName) policy.approve(this, undefined, port);',
    to: '',
    tests: [T('layers')],
  },
  {
    name: 'socket layer: the refusal replaces connect EACCES',
    file: `${EGRESS}/guard-net.ts`,
    from: 'const refusal = error === undefined || error === null || !this.connecting ? undefined : policy.recall(this);',
    to: 'const refusal = undefined;',
    tests: [T('clients')],
  },
  {
    name: 'tls.connect over an early socket',
    file: `${EGRESS}/guard-net.ts`,
    from: 'if (socket instanceof net.Socket && !checkedSockets.has(socket)',
    to: 'if (false && socket instanceof net.Socket && !checkedSockets.has(socket)',
    tests: [T('layers')],
  },
  {
    name: 'dgram: address check at the socket layer',
    file: `${EGRESS}/guard-dgram.ts`,
    from: 'if (policy.address(address, port) !== undefined) return original.apply(this, args);\n        fail(this, kind, refuse(address), target.callback);\n        return undefined;',
    to: 'return original.apply(this, args);',
    tests: [T('clients')],
  },
  {
    name: 'dgram: resolved hostname check',
    file: `${EGRESS}/guard-dgram.ts`,
    from: 'if (policy.address(resolved, port) === undefined) {',
    to: 'if (false) {',
    tests: [T('layers')],
  },
  {
    name: 'dgram: connectSync check',
    file: `${EGRESS}/guard-dgram.ts`,
    from: 'if (port !== undefined && isIP(address) !== 0 && policy.address(address, port) === undefined) {',
    to: 'if (false) {',
    tests: [T('layers')],
  },
  {
    name: 'child_process: spawn and sync exports',
    file: `${EGRESS}/guard-child-process.ts`,
    from: '    if (!policy.childProcesses) {\n      throw policy.refuse',
    to: '    if (false) {\n      throw policy.refuse',
    tests: [T('processes'), T('preload')],
  },
  {
    name: 'worker: the preload added to its --require',
    file: `${EGRESS}/guard-worker.ts`,
    from: "else super(filename, { ...options, execArgv: [...(given ?? process.execArgv), '--require', preload] });",
    to: 'else super(filename, options);',
    tests: [T('processes'), T('preload')],
  },
  {
    name: "worker: egress.workers 'refuse'",
    file: `${EGRESS}/guard-worker.ts`,
    from: "if (policy.workers === 'refuse') {",
    to: 'if (false) {',
    tests: [T('processes')],
  },
  {
    name: 'dgram: send read as lib/dgram.js reads it',
    file: `${EGRESS}/guard-dgram.ts`,
    from: "const long = Boolean(fifth) || (Boolean(fourth) && typeof fourth !== 'function');",
    to: "const long = typeof length === 'number';",
    tests: ['test/core/egress-dgram-shapes.test.ts', T('attacks-3')],
  },
  {
    name: 'process.kill of another process',
    file: `${EGRESS}/guard-child-process.ts`,
    from: 'if (number !== 0 && (target !== process.pid || !primitive)) {',
    to: 'if (false) {',
    tests: [T('attacks-3')],
  },
  {
    name: 'module.register registers the preload first',
    file: `${EGRESS}/guard-loader-hooks.ts`,
    from: 'original.call(this, pathToFileURL(policy.preloadPath).href);',
    to: '',
    tests: [T('attacks-3')],
  },
  {
    name: 'preloaded only when first among node options',
    file: `${EGRESS}/egress-lockdown.ts`,
    from: 'if (isMainThread) ranBefore.push(',
    to: 'if (false) ranBefore.push(',
    tests: [T('attacks-3')],
  },
  {
    name: 'not preloaded with a node config file flag',
    file: `${EGRESS}/preload-position.ts`,
    from: '  if (configured.length > 0) return configured;\n',
    to: '',
    tests: [T('attacks-4')],
  },
  {
    name: 'the package specifier is resolved, not trusted',
    file: `${EGRESS}/preload-position.ts`,
    from: 'export function isThePreload(value: string, self: string): boolean {\n',
    to: 'export function isThePreload(value: string, self: string): boolean {\n  if (value === PRELOAD_SPECIFIER) return true;\n',
    tests: [T('attacks-4')],
  },
  {
    name: 'process.kill: an object pid is not its own',
    file: `${EGRESS}/guard-child-process.ts`,
    from: 'if (number !== 0 && (target !== process.pid || !primitive)) {',
    to: 'if (number !== 0 && target !== process.pid) {',
    tests: [T('attacks-4')],
  },
  {
    name: 'process.kill: the converted pid and signal handed on',
    file: `${EGRESS}/guard-child-process.ts`,
    from: 'return originalKill.call(this, target, number);',
    to: 'return originalKill.call(this, pid, signal);',
    tests: [T('attacks-4')],
  },
  {
    name: 'os.setPriority of another process',
    file: `${EGRESS}/guard-priority.ts`,
    from: "      check(pid, priority, 'os.setPriority');\n",
    to: '',
    tests: [T('attacks-4')],
  },
  {
    name: 'os binding setPriority of another process',
    file: `${EGRESS}/guard-priority.ts`,
    from: "      check(typeof pid === 'number' ? pid : Number.NaN, priority, 'os binding setPriority');\n",
    to: '',
    tests: [T('attacks-4')],
  },
  {
    name: 'preload records networking modules loaded before it',
    file: `${EGRESS}/preload-snapshot.ts`,
    from: 'Object.freeze(networkingLoaded())',
    to: 'Object.freeze([] as string[])',
    tests: [T('attacks-3')],
  },
  { name: 'preload installs the lockdown', file: `${EGRESS}/egress-preload.ts`, from: '\npreload();\n', to: '\n', tests: [T('preload')] },
  {
    name: 'createGuards locks a mirror down',
    file: 'packages/core/src/provider/create-guards.ts',
    from: "const egress = profile === 'mirror' ? lockDown(options.egress, journal, strict) : undefined;",
    to: 'const egress = undefined as ReturnType<typeof lockDown> | undefined;',
    tests: [T('clients')],
  },
  {
    name: 'close() keeps the lockdown',
    file: 'packages/core/src/provider/create-guards.ts',
    from: '      egress?.detach();\n      if (ownsJournal) {',
    to: '      egress?.detach();\n      egress?.lockdown.dispose();\n      if (ownsJournal) {',
    tests: [T('clients')],
  },
  {
    name: 'typeormProvider declares its database',
    file: 'packages/db-readonly/src/typeorm/typeorm-provider.ts',
    from: "for (const destination of dataSourceDestinations(dataSource)) allowDestination(destination, 'the database');",
    to: '',
    tests: [T('declared')],
  },
  {
    name: 'redisProvider declares the origin',
    file: 'packages/redis-shadow/src/provider/redis-provider.ts',
    from: "for (const destination of redisDestinations(options.origin)) allowDestination(destination, 'origin Redis');",
    to: '',
    tests: [T('declared')],
  },
  {
    name: 'httpStubProvider declares the shared store',
    file: 'packages/http-stub/src/provider/http-provider.ts',
    from: "for (const destination of options.store?.destinations ?? []) allowDestination(destination, 'the shared exchange store');",
    to: '',
    tests: [T('declared')],
  },
  {
    name: 'httpStubProvider declares allowHosts',
    file: 'packages/http-stub/src/provider/http-provider.ts',
    from: "for (const each of port === undefined ? [80, 443] : [port]) allowDestination({ host: name, port: each }, 'allowHosts: safe calls let through on a miss');",
    to: '',
    tests: [T('declared')],
  },
];

const filter = process.argv[2];
const rows: string[] = [];
let survivors = 0;
for (const mutation of MUTATIONS.filter((each) => filter === undefined || each.name.includes(filter))) {
  const original = readFileSync(mutation.file, 'utf8');
  if (original.split(mutation.from).length !== 2) throw new Error(`${mutation.name}: the line to take out is not in ${mutation.file} exactly once`);
  const restore = (): void => writeFileSync(mutation.file, original);
  process.once('SIGINT', restore);
  writeFileSync(mutation.file, original.replace(mutation.from, mutation.to));
  const failed: string[] = [];
  try {
    for (const test of mutation.tests) {
      try {
        execFileSync('npx', ['vitest', 'run', test], { stdio: 'pipe', timeout: 300_000 });
      } catch (error) {
        const output = String((error as { stdout?: Buffer }).stdout ?? '');
        const count = /Tests\s+\S*?(\d+) failed/.exec(output.replace(/\u001b\[[0-9;]*m/g, ''))?.[1] ?? '?';
        failed.push(`${test.replace('test/core/', '')} (${count} failed)`);
      }
    }
  } finally {
    restore();
    process.removeListener('SIGINT', restore);
  }
  if (failed.length === 0) survivors += 1;
  rows.push(`| ${mutation.name} | ${failed.length > 0 ? `killed: ${failed.join(', ')}` : 'SURVIVED'} |`);
  console.log(rows.at(-1));
}
console.log(['', '| line taken out | result |', '| --- | --- |', ...rows].join('\n'));
process.exit(survivors > 0 ? 1 : 0);
