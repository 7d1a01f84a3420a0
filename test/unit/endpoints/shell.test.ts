import assert from "node:assert/strict";
import { test } from "node:test";
import { shellJoin, shellQuote } from "../../../src/endpoints/shell.js";
import { execCommand } from "../../../src/util/process.js";

test("safe words stay as they are, everything else is single-quoted", () => {
  assert.equal(shellQuote("/usr/bin/vnetbench"), "/usr/bin/vnetbench");
  assert.equal(shellQuote("a b"), "'a b'");
  assert.equal(shellQuote(""), "''");
  assert.equal(shellQuote("it's"), "'it'\\''s'");
});

test("a POSIX shell splits shellJoin's output back into the same argv", async () => {
  const argv = [
    "plain",
    "",
    "two words",
    "it's",
    '"dq"',
    "$HOME",
    "`id`",
    "a;b|c&d",
    "new\nline",
    "*",
    "ünï",
    "-n",
  ];
  const { stdout } = await execCommand(["sh", "-c", `printf '%s\\0' ${shellJoin(argv)}`]);
  assert.deepEqual(stdout.split("\0").slice(0, -1), argv);
});
