import assert from "node:assert/strict";
import { test } from "node:test";
import { SshEndpoint } from "../../../src/endpoints/ssh.js";
import { InputError } from "../../../src/errors.js";

test("sshArgv: batch mode and a connect timeout first, user options, then -- target command", () => {
  const endpoint = new SshEndpoint({
    name: "hv1",
    role: "host",
    target: "root@hv1",
    address: "192.0.2.10",
    sshOptions: { ProxyJump: "bastion", Port: "2222" },
    configFile: "/etc/vnb/ssh_config",
    connectTimeoutS: 4,
  });
  const argv = endpoint.sshArgv("echo hi");
  assert.deepEqual(argv.slice(0, 5), ["ssh", "-o", "BatchMode=yes", "-o", "ConnectTimeout=4"]);
  assert.deepEqual(argv.slice(-3), ["--", "root@hv1", "echo hi"]);
  assert.ok(argv.join(" ").includes("-F /etc/vnb/ssh_config -o ProxyJump=bastion -o Port=2222"));
});

test("a target that ssh would read as an option is refused", () => {
  assert.throws(
    () => new SshEndpoint({ name: "x", role: "host", target: "-oProxyCommand=id", address: "192.0.2.1" }),
    InputError,
  );
});

test("vnetbenchCommand defaults to vnetbench on the remote PATH and can be configured", () => {
  const base = { name: "x", role: "guest" as const, target: "vm", address: "192.0.2.2" };
  assert.deepEqual(new SshEndpoint(base).vnetbenchCommand(), ["vnetbench"]);
  assert.deepEqual(
    new SshEndpoint({ ...base, remoteVnetbench: ["/opt/vnb/bin/vnetbench"] }).vnetbenchCommand(),
    ["/opt/vnb/bin/vnetbench"],
  );
});
