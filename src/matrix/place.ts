// Where a matrix runs: its network setups resolved on the netns lab (named, or a throw-away one as
// root), on loopback, or on the endpoints the matrix lists or refers to; and every endpoint by name,
// for options' steps and CPU setups.

import type { Endpoint } from "../endpoints/endpoint.js";
import { createEndpoint } from "../endpoints/endpoints-file.js";
import { LocalEndpoint } from "../endpoints/local.js";
import { InputError } from "../errors.js";
import { type GuestControl, labGuestControl } from "../labs/guest-control.js";
import type { Lab } from "../labs/netns-lab.js";
import type { GuestKind } from "../labs/qemu-lab.js";
import {
  endpointsPaths,
  isRoot,
  LOOPBACK_SETUP,
  labPaths,
  loopbackPaths,
  type PathProvider,
  runLab,
  useLab,
} from "../run/paths.js";
import type { EndpointDirectory } from "./apply.js";
import type { Matrix } from "./matrix.js";
import { LOCAL_ENDPOINT } from "./parse.js";

export interface MatrixPlace {
  provider: PathProvider;
  directory: EndpointDirectory;
  /** Every endpoint the run may touch (their facts are recorded). */
  endpoints: Endpoint[];
  /** A lab's guests, for guest and hypervisor options; whether the run brought the lab up. */
  guests?: { control: GuestControl; owned: boolean };
}

function directoryOf(endpoints: Endpoint[], host: Endpoint): EndpointDirectory {
  const local =
    endpoints.find((e) => e.name === LOCAL_ENDPOINT) ??
    new LocalEndpoint(LOCAL_ENDPOINT, "127.0.0.1", "host");
  const byName = new Map(endpoints.map((e) => [e.name, e] as const));
  byName.set(LOCAL_ENDPOINT, byName.get(LOCAL_ENDPOINT) ?? local);
  return { byName, host, local };
}

/** A lab as a place: its nodes and `local` (this host, whose CPUs and IRQs the lab shares) by name. */
export function onLab(lab: Lab, owned: boolean): MatrixPlace {
  const provider = labPaths(lab, owned);
  // The lab's namespaces share this host's CPUs, IRQs and /proc: CPU setups act here, directly.
  const local = provider.host!;
  const directory = directoryOf([...Object.values(lab.endpoints), local], local);
  return {
    provider,
    directory: provider.hypervisorTasks
      ? { ...directory, hypervisorTasks: provider.hypervisorTasks }
      : directory,
    endpoints: [local],
    guests: { control: labGuestControl(lab), owned },
  };
}

/** Opens what the matrix runs on; `lab` (the --lab flag) overrides the matrix's endpoints. */
export async function openMatrixPlace(
  matrix: Matrix,
  lab?: string,
  guests?: GuestKind,
): Promise<MatrixPlace> {
  const where = lab !== undefined ? { kind: "lab" as const, lab } : matrix.endpoints;
  if (where.kind === "lab") return onLab(await useLab(where.lab), false);
  if (where.kind === "file" || where.kind === "inline") {
    const endpoints = where.specs.map(createEndpoint);
    const hostOf = new Map(where.specs.map((spec) => [spec.name, spec.host]));
    const provider = endpointsPaths(
      { endpoints, hostOf: (guest: Endpoint) => hostOf.get(guest.name) },
      where.kind === "file" ? { kind: "endpoints-file", file: where.file } : { kind: "matrix-endpoints" },
    );
    const host = provider.host ?? new LocalEndpoint(LOCAL_ENDPOINT, "127.0.0.1", "host");
    const directory = directoryOf(endpoints, host);
    return {
      provider,
      directory: provider.hypervisorTasks
        ? { ...directory, hypervisorTasks: provider.hypervisorTasks }
        : directory,
      endpoints,
    };
  }
  if (matrix.network.every((option) => option.name === LOOPBACK_SETUP)) {
    const provider = loopbackPaths();
    const local = provider.host!;
    return { provider, directory: directoryOf([local], local), endpoints: [local] };
  }
  if (!isRoot())
    throw new InputError(
      `${matrix.file}: its network setups need the netns lab, which needs root: run as root, or give endpoints (a file or a list)`,
    );
  return onLab(
    await runLab(guests ?? (matrix.endpoints.kind === "default" ? matrix.endpoints.guests : undefined)),
    true,
  );
}
