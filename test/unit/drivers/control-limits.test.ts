import assert from "node:assert/strict";
import { test } from "node:test";
import { checkRequest, MAX_MESSAGE_BYTES } from "../../../src/drivers/builtin/control-limits.js";

const open = {
  id: 1,
  op: "open",
  protocol: "tcp",
  pattern: "rr",
  requestSize: 64,
  responseSize: 64,
  rate: 0,
};

test("well-formed requests pass, counters and future operations included", () => {
  assert.equal(checkRequest(open).ok, true);
  assert.equal(checkRequest({ id: 2, op: "mark", session: 1, stop: true }).ok, true);
  assert.equal(checkRequest({ id: 3, op: "counters" }).ok, true);
  assert.equal(checkRequest({ id: 4, op: "something-newer" }).ok, true);
});

test("anything else is refused with the field and, where there is one, the id to answer", () => {
  const refused = (message: unknown) => {
    const checked = checkRequest(message);
    assert.equal(checked.ok, false, JSON.stringify(message));
    return checked.ok ? "" : `${checked.id} ${checked.error}`;
  };
  assert.equal(refused(null), "null expected a JSON object");
  assert.equal(refused([open]), "null expected a JSON object");
  assert.equal(refused({ ...open, id: "1" }), "null id: expected a whole number");
  assert.match(
    refused({ ...open, requestSize: MAX_MESSAGE_BYTES + 1 }),
    /^1 requestSize: expected a whole number of bytes/,
  );
  assert.match(refused({ ...open, responseSize: 1e300 }), /responseSize/);
  assert.match(refused({ ...open, rate: Number.NaN }), /rate/);
  assert.match(refused({ ...open, protocol: "icmp" }), /protocol/);
  assert.match(refused({ id: 1, op: "mark", session: -1 }), /session/);
  assert.match(
    refused({ id: 1, op: "drive", target: { host: "h", port: 0, token: "t" }, traffic: {} }),
    /target\.port/,
  );
  assert.match(
    refused({
      id: 1,
      op: "drive",
      target: { host: "h", port: 1, token: "t" },
      traffic: {
        protocol: "tcp",
        pattern: "rr",
        requestSize: 64,
        responseSize: 64,
        rate: "max",
        durationS: 1e9,
        warmupS: 0,
      },
    }),
    /traffic\.durationS/,
  );
  assert.match(refused({ id: 1, op: 5 }), /op/);
});
