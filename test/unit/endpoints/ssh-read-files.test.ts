import assert from "node:assert/strict";
import { test } from "node:test";
import { splitFileContents } from "../../../src/endpoints/ssh.js";

test("readFiles' output splits into each file, null where the file could not be read", () => {
  assert.deepEqual(splitFileContents("1 2 3\n\0\u0001\0a (b) c\n\0", 3), ["1 2 3\n", null, "a (b) c\n"]);
  assert.deepEqual(splitFileContents("\0", 1), [""]);
});

test("output cut short (the connection dropped) is an error, not fewer files", () => {
  assert.throws(() => splitFileContents("1 2 3\n\0", 2), /expected 2 files, read 1/);
});
