import assert from "node:assert/strict";
import { test } from "node:test";
import { generatorPidsOn } from "../../../src/drivers/driver.js";
import { LocalEndpoint } from "../../../src/endpoints/local.js";
import { sameMachine } from "../../../src/endpoints/machine.js";
import { NetnsEndpoint } from "../../../src/endpoints/netns.js";
import { SshEndpoint } from "../../../src/endpoints/ssh.js";

const local = new LocalEndpoint();
const host1 = new NetnsEndpoint("host1", "vnb-host1", "host", "10.0.0.1");
const hv1 = new SshEndpoint({ name: "hv1", role: "host", target: "root@hv1", address: "192.0.2.10" });
const hv1Again = new SshEndpoint({
  name: "hv1-mgmt",
  role: "host",
  target: "root@hv1",
  address: "192.0.2.11",
});
const hv2 = new SshEndpoint({ name: "hv2", role: "host", target: "root@hv2", address: "192.0.2.20" });

test("this machine and its namespaces share a kernel; ssh endpoints by their destination", () => {
  assert.ok(sameMachine(local, host1));
  assert.ok(sameMachine(hv1, hv1Again));
  assert.ok(!sameMachine(local, hv1));
  assert.ok(!sameMachine(hv1, hv2));
});

test("a monitor of one machine gets the PIDs of the generator's processes there, never another machine's", () => {
  const generator = [
    { endpoint: hv1, pid: 4242 },
    { endpoint: host1, pid: 17 },
    { endpoint: hv2, pid: 5151 },
  ];
  assert.deepEqual(generatorPidsOn(generator, hv1Again), [4242]);
  assert.deepEqual(generatorPidsOn(generator, local), [17]);
  assert.deepEqual(generatorPidsOn(generator, hv2), [5151]);
});
