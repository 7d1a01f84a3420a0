// Whether two runs measured the same machine: a comparison across different hardware measures the
// machines, not the change.

/** Metadata fields that must agree: the host facts every run records, and the fingerprint hash. */
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
  /**
   * Software both runs recorded that differs (kernel, qemu, sysctls, MTU, offloads): never a
   * mismatch — a candidate may change it on purpose — but shown beside the verdicts.
   */
  software?: FingerprintDifference[];
}

function differs(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) !== JSON.stringify(b);
}

/** Leaves of two objects that differ, by dotted path. */
function leafDifferences(prefix: string, a: unknown, b: unknown, out: FingerprintDifference[]): void {
  const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null;
  if (isObject(a) && isObject(b)) {
    for (const key of new Set([...Object.keys(a), ...Object.keys(b)]))
      leafDifferences(prefix ? `${prefix}.${key}` : key, a[key], b[key], out);
  } else if (differs(a, b)) out.push({ field: prefix, baseline: a, candidate: b });
}

/**
 * Compares two runs' metadata: the host fields and the `fingerprint` hash (over every endpoint's
 * hardware) must agree; a hash that differs is explained by the `fingerprintFacts` that differ.
 */
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
    else if (differs(b, c)) {
      const explained: FingerprintDifference[] = [];
      if (field === "fingerprint")
        leafDifferences("hardware", baseline.fingerprintFacts, candidate.fingerprintFacts, explained);
      differences.push(...(explained.length > 0 ? explained : [{ field, baseline: b, candidate: c }]));
    }
  }
  if (baseline.software === undefined || candidate.software === undefined)
    return { matches: differences.length === 0, differences, oneSided };
  const software: FingerprintDifference[] = [];
  leafDifferences("software", baseline.software, candidate.software, software);
  return { matches: differences.length === 0, differences, oneSided, software };
}

/** One line per difference, for messages and reports. */
export function describeDifferences(check: Pick<FingerprintCheck, "differences">): string[] {
  return check.differences.map(
    (d) => `${d.field}: baseline ${JSON.stringify(d.baseline)}, candidate ${JSON.stringify(d.candidate)}`,
  );
}
