#!/usr/bin/env node
// The `mirrorguard` command: `diff` and `report` over journals (see mirrorguard.ts).
import { runCli } from './mirrorguard.ts';

process.exitCode = runCli(process.argv.slice(2), (text) => process.stdout.write(text), (text) => process.stderr.write(text));
