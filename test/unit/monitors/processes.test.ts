import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { test } from "node:test";
import { LocalEndpoint } from "../../../src/endpoints/local.js";
import { listTasks, parsePidList, parseTaskList, resolvePids } from "../../../src/monitors/processes.js";

test("parses pgrep and find output", () => {
  assert.deepEqual(parsePidList("12\n345\n\n"), [12, 345]);
  assert.deepEqual(parseTaskList("/proc/7/task/7\n/proc/7/task/9\nfind: '/proc/8/task': No such file\n"), [
    { pid: 7, tid: 7 },
    { pid: 7, tid: 9 },
  ]);
});

test("selects a real process by command-line pattern and lists its threads", async () => {
  const marker = `vnetbench-select-${process.pid}`;
  const child = spawn(process.execPath, ["-e", "setTimeout(() => {}, 10000)", marker], { stdio: "ignore" });
  try {
    await new Promise((resolve) => setTimeout(resolve, 200));
    const endpoint = new LocalEndpoint();
    assert.deepEqual(await resolvePids(endpoint, { name: "child", pattern: marker }), [child.pid]);
    const tasks = await listTasks(endpoint, [child.pid!, 999_999_999]);
    // Node runs several threads; the main one has the process's PID; the bogus PID is just absent.
    assert.ok(tasks.length > 1);
    assert.ok(tasks.some((t) => t.tid === child.pid));
    assert.ok(tasks.every((t) => t.pid === child.pid));
    assert.deepEqual(await resolvePids(endpoint, { name: "none", pattern: `${marker}-absent` }), []);
  } finally {
    child.kill();
    await once(child, "exit");
  }
});
