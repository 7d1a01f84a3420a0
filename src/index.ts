// The programmatic API: everything the CLI does, importable by another program.

export type { CpuSummary } from "./analysis/cpu.js";
export {
  decodeHistogram,
  encodeHistogram,
  latencyCdf,
  mergeHistograms,
  summarizeLatency,
} from "./analysis/latency.js";
export {
  type CurvePoint,
  type PeakResult,
  type PeakSearchOptions,
  searchPeak,
} from "./analysis/peak-search.js";
export type { ServiceDemand } from "./analysis/service-demand.js";
export { type CellSummary, summarizeSamples } from "./analysis/summary.js";
export {
  type MatrixPlanOptions,
  type PeakOptions,
  type PlannedRun,
  peakSearch,
  planMatrixFile,
  planRun,
  type ResumeOptions,
  type RunOptions,
  resumeBenchmark,
  runBenchmark,
} from "./api.js";
export type { RunComparison } from "./compare/runs.js";
export { doctor, type EndpointDoctor } from "./doctor.js";
export * from "./domain/cell.js";
export * from "./domain/sample.js";
export * from "./domain/setup.js";
export * from "./domain/traffic.js";
export { Agent } from "./drivers/builtin/agent.js";
export { builtinDriver } from "./drivers/builtin/driver.js";
export type { Driver, DriverSession, TrafficPath, TrialOptions } from "./drivers/driver.js";
export type { Endpoint, EndpointKind, EndpointRole } from "./endpoints/endpoint.js";
export { loadEndpointsFile } from "./endpoints/endpoints-file.js";
export { LocalEndpoint } from "./endpoints/local.js";
export { NetnsEndpoint } from "./endpoints/netns.js";
export { SshEndpoint } from "./endpoints/ssh.js";
export * from "./errors.js";
export { type Lab, labDown, labStatus, labUp, openLab, setLinkOptions } from "./labs/netns-lab.js";
export type { MatrixPlan } from "./matrix/plan.js";
export { matrixJsonSchema } from "./matrix/schema.js";
export { type CpuMonitor, startCpuMonitor } from "./monitors/cpu-monitor.js";
export { type CellView, type RunView, runView } from "./report/run-view.js";
export { runPeakTrial } from "./run/peak.js";
export type { RunEvent } from "./run/runner.js";
export { NETWORK_SETUPS, resolveNetworkSetup } from "./setups/network.js";
export { type RunRecord, Store } from "./storage/store.js";
export {
  type CompareRunsOptions,
  compareRuns,
  DEFAULT_DB,
  exportRun,
  listRuns,
  type ReportOptions,
  reportRun,
  showRun,
} from "./views.js";
