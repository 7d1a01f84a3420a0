// Reads a saved /proc or perf snapshot from test/fixtures/proc.
import { readFileSync } from "node:fs";

export function fixture(name: string): string {
  return readFileSync(new URL(`../../fixtures/proc/${name}`, import.meta.url), "utf8");
}
