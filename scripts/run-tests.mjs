#!/usr/bin/env node
// Runs the suite with Node's own test runner: Node 20 has no glob support in
// `--test`, so the test files are listed here. `node scripts/run-tests.mjs unit`
// runs one folder of test/.
import { spawnSync } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";

function testFiles(dir) {
  return readdirSync(dir)
    .sort()
    .flatMap((name) => {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) return testFiles(path);
      return name.endsWith(".test.ts") ? [path] : [];
    });
}

const folders = process.argv.length > 2 ? process.argv.slice(2) : ["unit", "integration"];
const files = folders.flatMap((folder) => testFiles(join("test", folder)));
// Integration tests build labs with fixed names and compete for two cores: run files one at a time.
const result = spawnSync(
  process.execPath,
  ["--import", "tsx", "--test", "--test-concurrency=1", "--test-reporter=spec", ...files],
  { stdio: "inherit" },
);
process.exit(result.status ?? 1);
