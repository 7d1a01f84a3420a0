// Whether two runs measured the same machine: a comparison across different hardware or kernels
// measures the machines, not the change.

/**
 * Metadata fields that must agree. `fingerprint` is the hash a later issue records; until every
 * run has it, the host facts every run already records stand in for it.
 */
export const FINGERPRINT_FIELDS = ["fingerprint", "hostname", "cpuModel", "cores", "kernel"] as const;

export interface FingerprintDifference {
  field: string;
  baseline: unknown;
  candidate: unknown;
}

export interface FingerprintCheck {
  matches: boolean;
  /** Fields both runs recorded, with different values. */
  differences: FingerprintDifference[];
  /** Fields only one run recorded (not a mismatch: older runs lack newer fields). */
  oneSided: string[];
}

/** Compares the fingerprint fields of two runs' metadata. */
export function checkFingerprint(
  baseline: Record<string, unknown>,
  candidate: Record<string, unknown>,
): FingerprintCheck {
  const differences: FingerprintDifference[] = [];
  const oneSided: string[] = [];
  for (const field of FINGERPRINT_FIELDS) {
    const b = baseline[field];
    const c = candidate[field];
    if (b === undefined && c === undefined) continue;
    if (b === undefined || c === undefined) oneSided.push(field);
    else if (JSON.stringify(b) !== JSON.stringify(c)) differences.push({ field, baseline: b, candidate: c });
  }
  return { matches: differences.length === 0, differences, oneSided };
}

/** One line per difference, for messages and reports. */
export function describeDifferences(check: FingerprintCheck): string[] {
  return check.differences.map(
    (d) => `${d.field}: baseline ${JSON.stringify(d.baseline)}, candidate ${JSON.stringify(d.candidate)}`,
  );
}
