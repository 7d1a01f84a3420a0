// Every named network setup on a real netns lab: traffic gets through, and through the interfaces
// the setup claims it crosses.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { type Lab, labDown, labUp } from "../../src/labs/netns-lab.js";
import { NETWORK_SETUPS, resolveNetworkSetup } from "../../src/setups/network.js";
import { labNamespacesLeft, tcpExchange, totalBytes } from "../helpers/lab.js";

const NAME = "vnbt3a";
const BYTES = 256 * 1024;
let lab: Lab;

before(async () => {
  await labDown(NAME);
  lab = await labUp({ name: NAME });
});

after(async () => {
  await labDown(NAME);
  assert.deepEqual(await labNamespacesLeft(NAME), []);
});

for (const name of NETWORK_SETUPS) {
  test(`${name}: TCP gets through and every interface on the path counts it`, async () => {
    const path = resolveNetworkSetup(name, { lab });
    assert.ok(path.interfaces.length > 0);
    const ping = await path.client.exec(["ping", "-c", "1", "-W", "2", path.serverAddress]);
    assert.match(ping.stdout, /1 received/);
    const before = await totalBytes(path.interfaces);
    const { received } = await tcpExchange(path, BYTES);
    assert.equal(received, BYTES);
    const moved = (await totalBytes(path.interfaces)).map((bytes, i) => bytes - before[i]!);
    path.interfaces.forEach((iface, i) => {
      assert.ok(moved[i]! >= BYTES, `${iface.endpoint.name}/${iface.ifname} moved only ${moved[i]} bytes`);
    });
  });
}

test("guest-to-guest on one host stays on the bridge: host1's wan link does not move", async () => {
  const path = resolveNetworkSetup("guest-to-guest", { lab });
  const wan = [{ endpoint: lab.endpoints.host1, ifname: `${NAME}-wan` }];
  const [before] = await totalBytes(wan);
  await tcpExchange(path, BYTES);
  const [afterBytes] = await totalBytes(wan);
  assert.ok(afterBytes! - before! < BYTES / 10);
});

test("every pair of lab nodes can reach each other", async () => {
  const nodes = Object.values(lab.endpoints);
  for (const from of nodes) {
    for (const to of nodes) {
      if (from === to) continue;
      const result = await from.exec(["ping", "-c", "1", "-W", "2", to.address], { allowFailure: true });
      assert.equal(result.code, 0, `${from.name} → ${to.name} (${to.address})`);
    }
  }
});
