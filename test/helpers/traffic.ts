import type { Traffic } from "../../src/domain/traffic.js";

/** Built-in TCP request/response, 64 B each way, as fast as it goes; tests change what they test. */
export function trafficOf(changes: Partial<Traffic> = {}): Traffic {
  return {
    protocol: "tcp",
    pattern: "rr",
    requestSize: 64,
    responseSize: 64,
    rate: "max",
    durationS: 1,
    warmupS: 0.2,
    driver: "builtin",
    ...changes,
  };
}
