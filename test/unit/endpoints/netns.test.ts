import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { NetnsEndpoint } from "../../../src/endpoints/netns.js";

// A namespace that does not exist: whatever is read through `ip netns exec` fails.
const endpoint = new NetnsEndpoint("n", "vnb-no-such-namespace", "host", "10.0.0.1");

test("a namespace's /proc outside net/ is this machine's, read without entering it", async () => {
  assert.equal(
    await endpoint.readFile("/proc/sys/kernel/ostype"),
    readFileSync("/proc/sys/kernel/ostype", "utf8"),
  );
  assert.match(await endpoint.readFile(`/proc/${process.pid}/task/${process.pid}/schedstat`), /^\d+ \d+ \d+/);
});

test("per-namespace files are read inside the namespace", async () => {
  for (const path of [
    "/proc/net/snmp",
    "/proc/self/net/dev",
    `/proc/${process.pid}/net/dev`,
    "/sys/class/net",
  ])
    await assert.rejects(endpoint.readFile(path), /vnb-no-such-namespace|ip netns exec|Cannot open/, path);
});
