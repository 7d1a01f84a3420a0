// Endpoint: a place where commands run and traffic starts or ends.

import type { CommandResult, ExecOptions, LongRunning } from "../util/process.js";

export const ENDPOINT_KINDS = ["local", "netns", "ssh", "qemu", "libvirt"] as const;
export type EndpointKind = (typeof ENDPOINT_KINDS)[number];

export const ENDPOINT_ROLES = ["host", "guest", "ext"] as const;
export type EndpointRole = (typeof ENDPOINT_ROLES)[number];

export interface Endpoint {
  readonly name: string;
  readonly kind: EndpointKind;
  readonly role: EndpointRole;
  /** The address other endpoints send traffic to, to reach this one. */
  readonly address: string;
  /** Runs argv on the endpoint to completion. */
  exec(argv: readonly string[], options?: ExecOptions): Promise<CommandResult>;
  /** Starts a long-lived process on the endpoint; stop() ends it on the endpoint too. */
  start(argv: readonly string[]): LongRunning;
  /** Reads a (small) file on the endpoint, e.g. under /proc or /sys. */
  readFile(path: string): Promise<string>;
  /**
   * Reads several small files in one command, null for each that cannot be read: where a command
   * costs a connection (ssh), a monitor sample of N threads then costs one, not N.
   */
  readFiles?(paths: readonly string[]): Promise<Array<string | null>>;
  /** argv prefix that runs the vnetbench CLI on this endpoint. */
  vnetbenchCommand(): string[];
}
