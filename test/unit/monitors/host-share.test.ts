import assert from "node:assert/strict";
import { test } from "node:test";
import { parseNetDevPackets } from "../../../src/monitors/host-share.js";

test("packets of a namespace: received plus sent on every interface but lo", () => {
  const text = [
    "Inter-|   Receive                                                |  Transmit",
    " face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed",
    "    lo:  9772 59 0 0 0 0 0 0  9772 59 0 0 0 0 0 0",
    "vnb-g1: 123456 100 0 0 0 0 0 0 654321 80 0 0 0 0 0 0",
    "  vnb-wan:1000 7 0 0 0 0 0 0 2000 3 0 0 0 0 0 0",
    "",
  ].join("\n");
  assert.equal(parseNetDevPackets(text), 100 + 80 + 7 + 3);
});
