import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import {
  EndpointsFileError,
  loadEndpointsFile,
  parseEndpointsFile,
} from "../../../src/endpoints/endpoints-file.js";
import type { NetnsEndpoint } from "../../../src/endpoints/netns.js";
import type { SshEndpoint } from "../../../src/endpoints/ssh.js";
import { InputError } from "../../../src/errors.js";

const fixtures = new URL("../../fixtures/endpoints/", import.meta.url);

test("a good file gives one endpoint per entry, of the right kind, with the guests' hosts", async () => {
  const file = await loadEndpointsFile(new URL("good.yaml", fixtures).pathname);
  assert.deepEqual(
    file.endpoints.map((e) => [e.name, e.kind, e.role, e.address]),
    [
      ["hv1", "ssh", "host", "192.0.2.10"],
      ["vm1", "ssh", "guest", "192.0.2.21"],
      ["vm2", "ssh", "guest", "192.0.2.22"],
      ["hv2", "ssh", "host", "hv2.lab.example"],
      ["vm3", "netns", "guest", "10.0.0.3"],
      ["loadgen", "local", "ext", "192.0.2.1"],
    ],
  );
  const hv1 = file.endpoints[0] as SshEndpoint;
  assert.deepEqual(hv1.vnetbenchCommand(), ["/opt/vnetbench/bin/vnetbench"]);
  assert.ok(hv1.sshArgv("true").includes("Port=2222"), "numbers in sshOptions become strings");
  assert.equal((file.endpoints[4] as NetnsEndpoint).namespace, "blue");
  assert.equal(file.hostOf(file.endpoints[2]!), "hv1");
  assert.equal(file.hostOf(file.endpoints[0]!), undefined);
});

// Each bad file, and the first line of the error: file:line:column: field: what was expected.
const BAD: Record<string, string> = {
  "syntax.yaml": 'syntax.yaml:5:1: (yaml): Missing closing "quote',
  "not-a-list.yaml": 'not-a-list.yaml:1:12: endpoints: expected a list of endpoints, got "hv1"',
  "empty.yaml": "empty.yaml:1:12: endpoints: expected at least one endpoint",
  "entry-not-a-map.yaml":
    'entry-not-a-map.yaml:2:5: endpoints[0]: expected a mapping (name, kind, role, address, …), got "just-a-string"',
  "unknown-kind.yaml":
    'unknown-kind.yaml:3:11: endpoints[0].kind: expected one of local, netns, ssh, qemu, libvirt, got "sshh"',
  "missing-kind.yaml":
    "missing-kind.yaml:2:5: endpoints[0]: missing field kind (expected one of local, netns, ssh, qemu, libvirt)",
  "missing-ssh.yaml": "missing-ssh.yaml:2:5: endpoints[0]: missing field ssh (required for kind ssh)",
  "bad-role.yaml":
    'bad-role.yaml:4:11: endpoints[0].role: expected one of host, guest, ext, got "hypervisor"',
  "bad-address.yaml":
    'bad-address.yaml:6:14: endpoints[0].address: expected an IP address or a host name, got "not an address!"',
  "unknown-field.yaml": "unknown-field.yaml:2:5: endpoints[0]: missing field address (required for kind ssh)",
  "duplicate-name.yaml": 'duplicate-name.yaml:5:11: endpoints[1].name: duplicate endpoint name "a"',
  "unknown-host.yaml":
    'unknown-host.yaml:9:11: endpoints[1].host: expected the name of an endpoint with role host, got "hv9"',
  "ssh-option-injection.yaml":
    'ssh-option-injection.yaml:5:10: endpoints[0].ssh: expected an ssh destination such as user@host or a Host alias, got "-oProxyCommand=touch /tmp/x"',
  "bad-timeout.yaml": "bad-timeout.yaml:7:21: endpoints[0].connectTimeout: expected number to be >0, got -3",
};

for (const [name, expected] of Object.entries(BAD)) {
  test(`bad endpoints file ${name}`, () => {
    const text = readFileSync(new URL(`bad/${name}`, fixtures), "utf8");
    assert.throws(
      () => parseEndpointsFile(text, name),
      (error: unknown) => {
        assert.ok(error instanceof EndpointsFileError && error instanceof InputError);
        assert.equal(error.message.split("\n")[0], expected);
        return true;
      },
    );
  });
}

test("an unknown field is reported at its key, beside the other problems of the entry", () => {
  const text = readFileSync(new URL("bad/unknown-field.yaml", fixtures), "utf8");
  assert.throws(
    () => parseEndpointsFile(text, "f.yaml"),
    (error: EndpointsFileError) => {
      assert.equal(error.issues.length, 2);
      assert.deepEqual(error.issues[1]?.field, "endpoints[0].adress");
      assert.equal([error.issues[1]?.line, error.issues[1]?.column].join(":"), "6:5");
      return true;
    },
  );
});

test("a file that cannot be read is an InputError naming it", async () => {
  await assert.rejects(
    loadEndpointsFile("/nonexistent/endpoints.yaml"),
    /endpoints file \/nonexistent\/endpoints.yaml/,
  );
});
