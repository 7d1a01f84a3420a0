// The endpoints file (YAML): how a real deployment — hypervisors, their guests, an external load
// machine — is described. Errors name the file, line, column and field, and what was expected.

import { readFile } from "node:fs/promises";
import { isIP } from "node:net";
import { isMap, isSeq, LineCounter, parseDocument } from "yaml";
import { z } from "zod";
import { InputError } from "../errors.js";
import { fieldName, nodeOffset, type PathKey, show, yamlToJs } from "../util/yaml-issues.js";
import { ENDPOINT_ROLES, type Endpoint, type EndpointRole } from "./endpoint.js";
import { DEFAULT_LIBVIRT_URI, LibvirtGuestEndpoint } from "./libvirt.js";
import { LocalEndpoint } from "./local.js";
import { NetnsEndpoint } from "./netns.js";
import { QemuGuestEndpoint } from "./qemu.js";
import { SshEndpoint } from "./ssh.js";

export const ENDPOINT_FILE_KINDS = ["local", "netns", "ssh", "qemu", "libvirt"] as const;

const NAME = /^[A-Za-z][\w.-]{0,63}$/;
const HOSTNAME = /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,62})(\.[A-Za-z0-9]([A-Za-z0-9-]{0,62}))*$/;

const common = {
  name: z.string().regex(NAME, { error: "expected a name of letters, digits, _ . - starting with a letter" }),
  role: z.enum(ENDPOINT_ROLES),
  address: z
    .string()
    .refine((a) => isIP(a) !== 0 || HOSTNAME.test(a), { error: "expected an IP address or a host name" }),
  /** For a guest: the name of the host endpoint it runs on (pairs guests for guest-to-guest setups). */
  host: z.string().optional(),
};

const localSchema = z.strictObject({
  ...common,
  kind: z.literal("local"),
  address: common.address.optional(),
});
const netnsSchema = z.strictObject({
  ...common,
  kind: z.literal("netns"),
  netns: z
    .string()
    .regex(/^[\w.-]+$/, { error: "expected a network namespace name as `ip netns list` shows it" }),
});
const sshSchema = z.strictObject({
  ...common,
  kind: z.literal("ssh"),
  ssh: z
    .string()
    .regex(/^[^-\s]\S*$/, { error: "expected an ssh destination such as user@host or a Host alias" }),
  sshOptions: z
    .record(
      z.string().regex(/^[A-Za-z]+$/, { error: "expected an OpenSSH option name such as ProxyJump" }),
      z.union([z.string(), z.number()]).transform(String),
    )
    .optional(),
  sshConfig: z.string().min(1).optional(),
  connectTimeout: z.number().int().positive().optional(),
  vnetbench: z
    .union([
      z
        .string()
        .min(1)
        .transform((s) => s.split(/\s+/)),
      z.array(z.string()).min(1),
    ])
    .optional(),
});

const socketPath = z
  .string()
  .regex(/^\/\S+$/, { error: "expected the absolute path of a unix socket on this machine" });
// A guest of this machine's qemu: its threads are read in this machine's /proc.
const guestRole = z.literal("guest");
const qemuSchema = z.strictObject({
  ...common,
  role: guestRole,
  kind: z.literal("qemu"),
  /** The qemu's QMP socket (`-qmp unix:PATH,server=on,wait=off`). */
  qmp: socketPath,
  /** The unix sockets of the guest's virtio-serial ports (the project's guest image serves them). */
  control: z.union([socketPath.transform((path) => [path]), z.array(socketPath).min(1)]),
});
const libvirtSchema = z.strictObject({
  ...common,
  role: guestRole,
  kind: z.literal("libvirt"),
  domain: z
    .string()
    .regex(/^[^/\s][^/]{0,199}$/, { error: "expected a libvirt domain name as `virsh list --all` shows it" }),
  uri: z
    .string()
    .regex(/^[a-z][\w+]*:\/\/\/\S*$/, {
      error: `expected a libvirt URI of this machine such as ${DEFAULT_LIBVIRT_URI} (the domain's threads and sockets are read here)`,
    })
    .optional(),
});

const KIND_SCHEMAS = {
  local: localSchema,
  netns: netnsSchema,
  ssh: sshSchema,
  qemu: qemuSchema,
  libvirt: libvirtSchema,
} as const;

export type LocalEndpointSpec = z.infer<typeof localSchema>;
export type NetnsEndpointSpec = z.infer<typeof netnsSchema>;
export type SshEndpointSpec = z.infer<typeof sshSchema>;
export type QemuEndpointSpec = z.infer<typeof qemuSchema>;
export type LibvirtEndpointSpec = z.infer<typeof libvirtSchema>;
export type EndpointSpec =
  | LocalEndpointSpec
  | NetnsEndpointSpec
  | SshEndpointSpec
  | QemuEndpointSpec
  | LibvirtEndpointSpec;

export interface EndpointsFileIssue {
  line: number;
  column: number;
  /** Where in the document, e.g. `endpoints[1].kind`. */
  field: string;
  message: string;
}

export class EndpointsFileError extends InputError {
  override name = "EndpointsFileError";
  constructor(
    readonly file: string,
    readonly issues: EndpointsFileIssue[],
  ) {
    super(issues.map((i) => `${file}:${i.line}:${i.column}: ${i.field}: ${i.message}`).join("\n"));
  }
}

/** Parsed endpoints, ready to hand to resolveNetworkSetup. */
export interface EndpointsFile {
  file: string;
  specs: EndpointSpec[];
  endpoints: Endpoint[];
  hostOf: (guest: Endpoint) => string | undefined;
}

/** Parses and validates an endpoints file's text; `file` is only used in messages. */
export function parseEndpointsFile(text: string, file: string): EndpointSpec[] {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter });
  const issues: EndpointsFileIssue[] = [];
  const at = (path: readonly PathKey[], message: string, key?: string) => {
    const { line, col } = lineCounter.linePos(nodeOffset(doc, path, key));
    issues.push({ line, column: col, field: fieldName(key === undefined ? path : [...path, key]), message });
  };
  if (doc.errors.length > 0) {
    for (const error of doc.errors) {
      const pos = error.linePos?.[0] ?? { line: 1, col: 1 };
      issues.push({
        line: pos.line,
        column: pos.col,
        field: "(yaml)",
        // The position is already in front; drop the one the yaml library appends.
        message: error.message.split("\n")[0]!.replace(/ at line \d+, column \d+:?$/, ""),
      });
    }
    throw new EndpointsFileError(file, issues);
  }

  const data = yamlToJs(doc, file);
  if (!isMap(doc.contents)) {
    at([], "expected a mapping with an `endpoints:` list");
    throw new EndpointsFileError(file, issues);
  }
  if (!isSeq(doc.get("endpoints", true))) {
    const value = (data as { endpoints?: unknown }).endpoints;
    at(["endpoints"], `expected a list of endpoints, got ${show(value)}`);
    throw new EndpointsFileError(file, issues);
  }
  for (const key of Object.keys(data as object)) {
    if (key !== "endpoints") at([], `unknown field ${show(key)} (expected: endpoints)`, key);
  }
  const entries = (data as { endpoints: unknown[] }).endpoints;
  if (entries.length === 0) at(["endpoints"], "expected at least one endpoint");

  const valid: { spec: EndpointSpec; index: number }[] = [];
  entries.forEach((entry, index) => {
    const base: PathKey[] = ["endpoints", index];
    if (typeof entry !== "object" || entry === null || Array.isArray(entry)) {
      at(base, `expected a mapping (name, kind, role, address, …), got ${show(entry)}`);
      return;
    }
    const record = entry as Record<string, unknown>;
    const kind = record.kind;
    if (!(ENDPOINT_FILE_KINDS as readonly unknown[]).includes(kind)) {
      const expected = `expected one of ${ENDPOINT_FILE_KINDS.join(", ")}`;
      if (kind === undefined) at(base, `missing field kind (${expected})`);
      else at([...base, "kind"], `${expected}, got ${show(kind)}`);
      return;
    }
    const schema = KIND_SCHEMAS[kind as keyof typeof KIND_SCHEMAS];
    const result = schema.safeParse(entry);
    if (!result.success) {
      for (const issue of result.error.issues) {
        const path = [...base, ...(issue.path as PathKey[])];
        if (issue.code === "unrecognized_keys") {
          const allowed = Object.keys(schema.shape).join(", ");
          for (const key of issue.keys)
            at(path, `unknown field for kind ${kind} (expected: ${allowed})`, key);
          continue;
        }
        const value = issue.path.reduce<unknown>(
          (v, k) => (v as Record<PathKey, unknown> | undefined)?.[k as PathKey],
          entry,
        );
        // A missing field of several accepted shapes fails as a union.
        if (value === undefined && (issue.code === "invalid_type" || issue.code === "invalid_union")) {
          const key = String(issue.path[issue.path.length - 1]);
          at(path.slice(0, -1), `missing field ${key} (required for kind ${kind})`);
        } else if (issue.code === "invalid_value") {
          at(path, `expected one of ${issue.values.join(", ")}, got ${show(value)}`);
        } else {
          const message = issue.message.startsWith("expected")
            ? issue.message
            : issue.message.replace(/^.*?: /, "");
          at(path, `${message}, got ${show(value)}`);
        }
      }
      return;
    }
    valid.push({ spec: result.data, index });
  });

  // Cross-references: unique names; a guest's host is a host endpoint of this file.
  const byName = new Map<string, EndpointSpec>();
  for (const { spec, index } of valid) {
    if (byName.has(spec.name)) at(["endpoints", index, "name"], `duplicate endpoint name ${show(spec.name)}`);
    else byName.set(spec.name, spec);
  }
  for (const { spec, index } of valid) {
    if (spec.host === undefined) continue;
    const path = ["endpoints", index, "host"];
    const host = byName.get(spec.host);
    if (spec.role !== "guest") at(path, `only a guest has a host, and this endpoint's role is ${spec.role}`);
    else if (host?.role !== "host")
      at(path, `expected the name of an endpoint with role host, got ${show(spec.host)}`);
  }
  if (issues.length > 0) throw new EndpointsFileError(file, issues);
  return valid.map(({ spec }) => spec);
}

/** The Endpoint a spec describes. */
export function createEndpoint(spec: EndpointSpec): Endpoint {
  const role: EndpointRole = spec.role;
  switch (spec.kind) {
    case "local":
      return new LocalEndpoint(spec.name, spec.address ?? "127.0.0.1", role);
    case "netns":
      return new NetnsEndpoint(spec.name, spec.netns, role, spec.address);
    case "ssh":
      return new SshEndpoint({
        name: spec.name,
        role,
        target: spec.ssh,
        address: spec.address,
        sshOptions: spec.sshOptions,
        configFile: spec.sshConfig,
        connectTimeoutS: spec.connectTimeout,
        remoteVnetbench: spec.vnetbench,
      });
    case "qemu":
      return new QemuGuestEndpoint(spec.name, role, spec.address, {
        qmpSocket: spec.qmp,
        controlSockets: spec.control,
      });
    case "libvirt":
      return new LibvirtGuestEndpoint({ ...spec, role });
  }
}

/** Reads, validates and instantiates an endpoints file. */
export async function loadEndpointsFile(file: string): Promise<EndpointsFile> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    throw new InputError(`endpoints file ${file}: cannot read it (${(error as Error).message})`);
  }
  const specs = parseEndpointsFile(text, file);
  const endpoints = specs.map(createEndpoint);
  const hosts = new Map(specs.map((spec) => [spec.name, spec.host]));
  return { file, specs, endpoints, hostOf: (guest) => hosts.get(guest.name) };
}
