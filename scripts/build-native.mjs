#!/usr/bin/env node
// Compiles the native data path (native/wire.c) into dist/native/vnb-wire. Without a C compiler
// the build goes on and the built-in engine's data path stays in Node (slower, and its figures
// say so in `dataPath`); `vnetbench doctor` tells which.
import { execFileSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const output = join(root, "dist", "native", "vnb-wire");
const compiler = process.env.CC || "cc";
mkdirSync(dirname(output), { recursive: true });
const argv = ["-O2", "-Wall", "-Wextra", "-Werror", "-pthread", "-o", output, join(root, "native", "wire.c"), "-lm"];
try {
  execFileSync(compiler, argv, { stdio: "inherit" });
} catch (error) {
  const why = error.code === "ENOENT" ? `no C compiler (${compiler})` : `${compiler} failed`;
  console.warn(`vnetbench: ${why}: the native data path is not built; the engine runs in Node (apt-get install gcc libc6-dev)`);
}
