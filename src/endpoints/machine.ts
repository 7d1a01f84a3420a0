// Which endpoints run on one kernel: a monitor reading one's /proc sees the other's processes under
// the same PIDs, and a PID taken on one means nothing on another machine.

import type { Endpoint } from "./endpoint.js";

/** This machine: a local endpoint, or a network namespace of it (same PID namespace). */
export function onThisMachine(endpoint: Endpoint): boolean {
  return endpoint.kind === "local" || endpoint.kind === "netns";
}

/** Whether the two endpoints share a kernel (a remote one by its ssh destination). */
export function sameMachine(a: Endpoint, b: Endpoint): boolean {
  if (a === b) return true;
  if (onThisMachine(a) || onThisMachine(b)) return onThisMachine(a) && onThisMachine(b);
  const target = (e: Endpoint) => (e.kind === "ssh" ? (e as Endpoint & { target: string }).target : null);
  return target(a) !== null && target(a) === target(b);
}
