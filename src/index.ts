// The programmatic API: everything the CLI does, importable by another program.

export {
  decodeHistogram,
  encodeHistogram,
  latencyCdf,
  mergeHistograms,
  summarizeLatency,
} from "./analysis/latency.js";
export * from "./domain/cell.js";
export * from "./domain/sample.js";
export * from "./domain/setup.js";
export * from "./domain/traffic.js";
export type { Driver, DriverSession, TrafficPath } from "./drivers/driver.js";
export type { Endpoint, EndpointKind, EndpointRole } from "./endpoints/endpoint.js";
export { LocalEndpoint } from "./endpoints/local.js";
export * from "./errors.js";
