// `npm run fuzz:sql`: the lexer differential test (test/db-readonly/lexer-differential.test.ts) run
// long, like a benchmark: not part of `npm test`. Starts a private MariaDB, then generates statements
// under each sql_mode reading in turn, in chunks of CHUNK statements, each chunk seeded with
// FUZZ_SEED + its number, and runs every statement the classifier allows, checking that nothing
// changed. Prints counts as it goes and every leak with the seed and index that reproduce it.
//
//   FUZZ_STATEMENTS  stop after this many generated statements (default 200000)
//   FUZZ_SECONDS     or after this many seconds (default: no limit)
//   FUZZ_SEED        the first chunk's seed (default: from the clock, printed)
// Exits 1 when it found a leak.
import { createConnection, type RowDataPacket } from 'mysql2/promise';
import { startMariadbServer } from '../../test/support/mariadb-server.ts';
import { createDifferentialSchema, DifferentialRunner, generateStatement, rng, seedStatements, sqlModes } from '../../test/db-readonly/lexer-differential.ts';

const CHUNK = 1000;
const limit = Number(process.env.FUZZ_STATEMENTS ?? 200_000);
const seconds = Number(process.env.FUZZ_SECONDS ?? Infinity);
const firstSeed = Number(process.env.FUZZ_SEED ?? Date.now() % 1_000_000_000);

const server = await startMariadbServer();
let runner: DifferentialRunner | undefined;
try {
  await createDifferentialSchema(server);
  const probe = await createConnection({ host: server.host, port: server.port, user: server.user });
  const [rows] = await probe.query<RowDataPacket[]>('SELECT @@GLOBAL.sql_mode AS mode, VERSION() AS version');
  await probe.end();
  const modes = sqlModes(String(rows[0]!.mode));
  console.log(`lexer fuzz: MariaDB ${String(rows[0]!.version)}, first seed ${firstSeed}, up to ${limit} statements${Number.isFinite(seconds) ? ` or ${seconds} s` : ''}`);
  runner = new DifferentialRunner(server);
  await runner.open();

  const started = performance.now();
  const elapsed = (): number => (performance.now() - started) / 1000;
  let lastReport = 0;
  const report = (): void => {
    const { generated, allowed, ran, syntaxErrors, otherErrors, leaks } = runner!.counts;
    console.log(
      `${elapsed().toFixed(0)} s: ${generated} generated (${(generated / elapsed()).toFixed(0)}/s), ${allowed} allowed, ${ran} ran, ` +
        `${syntaxErrors} syntax errors, ${otherErrors} other errors, ${leaks} leaks`,
    );
  };

  for (const mode of modes) {
    await runner.useSqlMode(mode);
    for (const [index, sql] of seedStatements(server.filesDir).entries()) await runner.check(sql, 0, index);
  }
  for (let chunk = 0; runner.counts.generated < limit && elapsed() < seconds; chunk += 1) {
    const seed = firstSeed + chunk;
    const mode = modes[chunk % modes.length]!;
    await runner.useSqlMode(mode);
    const random = rng(seed);
    for (let index = 0; index < CHUNK; index += 1) {
      const sql = generateStatement(random, server.filesDir);
      const leak = await runner.check(sql, seed, index);
      if (leak !== undefined) {
        console.log(`LEAK seed ${seed} #${index} sql_mode '${mode}': ${JSON.stringify(sql)}\n  allowed: ${leak.classification.reason}\n  ${leak.changes.join('\n  ')}`);
      }
    }
    if (elapsed() - lastReport >= 10) {
      lastReport = elapsed();
      report();
    }
  }
  report();
  process.exitCode = runner.counts.leaks > 0 ? 1 : 0;
} finally {
  await runner?.close();
  await server.kill();
}
