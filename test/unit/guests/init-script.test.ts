import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { test } from "node:test";
import { INIT_SCRIPT } from "../../../src/guests/init-script.js";

const busybox = spawnSync("busybox", ["true"]).status === 0;

test("/init parses as a busybox shell script", { skip: !busybox }, () => {
  const checked = spawnSync("busybox", ["sh", "-n"], { input: INIT_SCRIPT });
  assert.equal(checked.status, 0, String(checked.stderr));
});
