// The lab's lifecycle: already up, force, partly broken, down after a killed run, idempotent down;
// and the netns endpoint's start/stop and readFile inside the namespace.

import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { after, test } from "node:test";
import { InputError } from "../../src/errors.js";
import { labDown, labStatus, labUp, openLab } from "../../src/labs/netns-lab.js";
import { execCommand, startProcess } from "../../src/util/process.js";
import { labNamespacesLeft, namespaceInode, processesInNamespaces } from "../helpers/lab.js";

const NAME = "vnbt3b";

async function waitFor(check: () => Promise<boolean>, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

after(async () => {
  await labDown(NAME);
  assert.deepEqual(await labNamespacesLeft(NAME), []);
});

test("a lab that is up: labUp refuses, force recreates, openLab finds it from its name", async () => {
  await labDown(NAME);
  await labUp({ name: NAME, baseSubnet: "10.214.0.0/16" });
  await assert.rejects(labUp({ name: NAME }), (error: unknown) => {
    assert.ok(error instanceof InputError);
    assert.match(error.message, /lab vnbt3b is already up: run `vnetbench lab down --name vnbt3b` first/);
    return true;
  });
  const opened = await openLab(NAME);
  assert.equal(opened.topology.baseSubnet, "10.214.0.0/16", "the base subnet is read back from the lab");
  assert.equal(opened.endpoints.g3.address, "10.214.2.13");
  const recreated = await labUp({ name: NAME, force: true });
  assert.equal(recreated.endpoints.g3.address, "10.213.2.13");
  assert.equal((await labStatus(NAME)).state, "up");
});

test("the netns endpoint reads sysfs of its namespace and stops what it started by PID", async () => {
  const lab = await openLab(NAME);
  const mac = await lab.endpoints.host1.readFile(`/sys/class/net/${NAME}-br0/address`);
  assert.match(mac, /^([0-9a-f]{2}:){5}[0-9a-f]{2}\n$/);
  assert.ok(!existsSync(`/sys/class/net/${NAME}-br0`), "the bridge is not visible from the host's namespace");
  const sleeper = lab.endpoints.g1.start(["sleep", "60"]);
  const pid = sleeper.pid!;
  // `ip netns exec` enters the namespace then execs the command in place: same PID.
  await waitFor(async () => (await execCommand(["cat", `/proc/${pid}/comm`])).stdout.trim() === "sleep");
  const inode = await namespaceInode(`${NAME}-g1`);
  assert.deepEqual(await processesInNamespaces([inode]), [pid]);
  await sleeper.stop();
  assert.ok(!existsSync(`/proc/${pid}`));
});

test("a partly broken lab: status says what is missing, up refuses, down cleans it", async () => {
  const lab = await openLab(NAME);
  await lab.endpoints.host1.exec(["ip", "link", "del", `${NAME}-g2`]);
  await execCommand(["ip", "netns", "del", `${NAME}-ext`]);
  const status = await labStatus(NAME);
  assert.equal(status.state, "partial");
  for (const problem of [
    `namespace ${NAME}-ext is missing`,
    `interface ${NAME}-g2 in ${NAME}-host1 is missing`,
    `interface ${NAME}-eth0 in ${NAME}-g2 is missing`,
    `route default via 10.213.1.1 in ${NAME}-g2 is missing`,
  ]) {
    assert.ok(status.problems.includes(problem), `${problem} in ${status.problems.join("; ")}`);
  }
  await assert.rejects(labUp({ name: NAME }), /lab vnbt3b is partly there \(namespace vnbt3b-ext is missing/);
  await assert.rejects(openLab(NAME), /lab vnbt3b is broken/);
  assert.equal((await labDown(NAME)).removed.length, 5);
  assert.deepEqual(await labNamespacesLeft(NAME), []);
  assert.equal((await labStatus(NAME)).state, "down");
  assert.deepEqual((await labDown(NAME)).removed, [], "down is idempotent");
});

test("down cleans a lab whose run was killed, with an orphan still inside, by name alone", async () => {
  // Another process builds the lab, starts an agent-like process in it, and is killed.
  const script = [
    `import { labUp } from ${JSON.stringify(new URL("../../src/labs/netns-lab.ts", import.meta.url).pathname)};`,
    `const lab = await labUp({ name: "${NAME}" });`,
    `const { spawn } = await import("node:child_process");`,
    `spawn("ip", ["netns", "exec", lab.topology.namespaces.g3, "sleep", "300"], { detached: true, stdio: "ignore" }).unref();`,
    `console.log("ready");`,
    "setInterval(() => {}, 1000);",
  ].join("\n");
  const child = startProcess([process.execPath, "--import", "tsx", "--input-type=module", "-e", script]);
  await new Promise<void>((resolve, reject) => {
    child.stdout.on("data", (chunk: Buffer) => chunk.toString().includes("ready") && resolve());
    child.exited.then(() => reject(new Error("lab builder exited early")));
  });
  const inodes = await Promise.all((await labNamespacesLeft(NAME)).map(namespaceInode));
  assert.equal(inodes.length, 6);
  await waitFor(async () => (await processesInNamespaces(inodes)).length === 1);
  process.kill(child.pid!, "SIGKILL");
  await child.exited;

  assert.equal((await labStatus(NAME)).state, "up");
  assert.equal((await labDown(NAME)).removed.length, 6);
  assert.deepEqual(await labNamespacesLeft(NAME), []);
  await new Promise((resolve) => setTimeout(resolve, 200));
  assert.deepEqual(
    await processesInNamespaces(inodes),
    [],
    "nothing keeps the lab's namespaces (and links) alive",
  );
});
