// Peak throughput (DESIGN.md, "Peak throughput"): the highest offered load at which the system
// still keeps up. Found as RFC 2544 §26.1 and MLRsearch (draft-ietf-bmwg-mlrsearch) find a
// throughput: an exponential sweep brackets it between a good and a bad load, a bisection in log
// space narrows the bracket to a relative precision with short trials, and a longer trial confirms
// the result. Pure: every measurement comes from the injected `measure`, so tests drive the
// search with synthetic systems.

import type { LatencySummary } from "../domain/sample.js";
import { type Knee, kneeOf } from "./peak-knee.js";
import type { ServiceDemand } from "./service-demand.js";

/** Which trial `measure` is asked for: the unloaded reference and the confirmation are the long ones. */
export type TrialKind = "unloaded" | "search" | "confirm";

/** What one trial at an offered rate measured; a bidirectional trial gives its worse direction. */
export interface PointResult {
  offeredMessagesPerSecond: number;
  /** Messages the generator sent per second of the window (its schedule, for an open-loop sender). */
  sentMessagesPerSecond: number;
  /** Messages delivered per second. */
  messagesPerSecond: number;
  /** Round-trip latency from each message's intended send time; null when nothing was delivered. */
  latencyUs: LatencySummary | null;
  lossRatio: number;
  /** Sender lateness p99, µs, when the driver measures it. */
  latenessP99Us: number | null;
  /** The driver says its generator could not keep its schedule. */
  generatorLimited: boolean;
  durationS: number;
  cpu: { hostSeconds: number; perWallSecond: number; generatorSeconds: number } | null;
  serviceDemand: ServiceDemand | null;
}

/** A keep-up criterion of the definition, in its order. */
export const CRITERIA = ["delivered-rate", "loss", "latency"] as const;
export type Criterion = (typeof CRITERIA)[number];

/** Why the search stopped where it did. */
export type StopCriterion = Criterion | "generator-limited" | "max-rate" | "min-rate" | "trial-limit";

export type Verdict = "good" | "bad" | "generator-limited";
export type Phase = "unloaded" | "sweep" | "bisect" | "confirm";

/** One trial of the search: the latency–load curve is the list of them, in the order measured. */
export interface CurvePoint extends PointResult {
  phase: Phase;
  verdict: Verdict;
  /** The criteria this trial failed (empty when good). */
  failed: Criterion[];
}

export interface PeakLimits {
  /** Delivered rate must be at least this fraction of the offered rate. */
  deliveredFraction: number;
  /** Largest loss ratio still good: 0 for the no-drop rate, 0.005 for the partial-drop rate. */
  lossGoal: number;
  /** p99 may grow to latencyFactor × the unloaded p99. */
  latencyFactor: number;
  unloadedP99Us: number;
  p99LimitUs: number;
}

export interface PeakResult {
  /** The peak: the highest offered rate judged good and confirmed; null when the search found no peak of the system. */
  messagesPerSecond: number | null;
  /** What stopped the search: the criterion the load just above the peak failed, or why no peak was found. */
  criterion: StopCriterion;
  /** Relative precision asked for: the search stops once bad/good − 1 is within it. */
  precision: number;
  /** Highest rate judged good and lowest rate judged bad above it, as the search ended. */
  bounds: { good: number | null; bad: number | null };
  /** Where the generator, not the system, was found to be the limit. */
  generatorLimited: { messagesPerSecond: number; reason: string } | null;
  limits: PeakLimits | null;
  /** The Kneedle knee of p99 against offered load, for information only. */
  knee: Knee | null;
  trials: number;
  curve: CurvePoint[];
}

export interface PeakSearchOptions {
  /** Relative precision of the bisection (default 0.02). */
  precision?: number;
  lossGoal?: number;
  latencyFactor?: number;
  deliveredFraction?: number;
  /** Rate of the unloaded reference trial, messages/s (default 200). */
  unloadedRate?: number;
  /** First rate of the sweep (default 1000). */
  startRate?: number;
  /** Sweep step factor (default 2). */
  growth?: number;
  minRate?: number;
  maxRate?: number;
  /**
   * A rate's verdict is the majority of up to 1 + 2 × retries trials (default 1: best two of
   * three), so that neither one lucky nor one unlucky trial decides it; 0: one trial decides.
   */
  retries?: number;
  /** Hard cap on trials (default 100). */
  maxTrials?: number;
  onPoint?: (point: CurvePoint) => void;
}

export type Measure = (rate: number, kind: TrialKind) => Promise<PointResult>;

export const PEAK_DEFAULTS = {
  precision: 0.02,
  lossGoal: 0,
  latencyFactor: 4,
  deliveredFraction: 0.99,
  unloadedRate: 200,
  startRate: 1000,
  growth: 2,
  minRate: 1,
  maxRate: 10e6,
  retries: 1,
  maxTrials: 100,
} as const;

type Settings = Required<Omit<PeakSearchOptions, "onPoint">>;

function settingsOf(options: PeakSearchOptions): Settings {
  const s = { ...PEAK_DEFAULTS, ...withoutUndefined(options) };
  const check = (ok: boolean, name: string, value: number, expected: string) => {
    if (!ok) throw new RangeError(`peak search ${name}: expected ${expected}, got ${value}`);
  };
  check(s.precision >= 0.005 && s.precision <= 0.5, "precision", s.precision, "0.005–0.5");
  check(s.lossGoal >= 0 && s.lossGoal < 1, "lossGoal", s.lossGoal, "a ratio in [0, 1)");
  check(s.latencyFactor > 1, "latencyFactor", s.latencyFactor, "a factor > 1");
  check(
    s.deliveredFraction > 0 && s.deliveredFraction <= 1,
    "deliveredFraction",
    s.deliveredFraction,
    "(0, 1]",
  );
  check(s.growth > 1 + s.precision, "growth", s.growth, `a factor > 1 + precision`);
  check(s.minRate > 0 && s.maxRate > s.minRate, "maxRate", s.maxRate, `> minRate ${s.minRate}`);
  for (const [name, rate] of [
    ["unloadedRate", s.unloadedRate],
    ["startRate", s.startRate],
  ] as const)
    check(rate >= s.minRate && rate <= s.maxRate, name, rate, `a rate within [${s.minRate}, ${s.maxRate}]`);
  check(Number.isInteger(s.retries) && s.retries >= 0, "retries", s.retries, "a whole number ≥ 0");
  check(Number.isInteger(s.maxTrials) && s.maxTrials >= 3, "maxTrials", s.maxTrials, "a whole number ≥ 3");
  return s;
}

function withoutUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Four significant digits: rates on the curve stay readable, and 0.5 % precision stays reachable. */
export function roundRate(rate: number): number {
  return Number(rate.toPrecision(4));
}

/** The verdict on one trial against the definition's three criteria. */
export function judge(point: PointResult, limits: PeakLimits): { verdict: Verdict; failed: Criterion[] } {
  const offered = point.offeredMessagesPerSecond;
  const failing: Record<Criterion, boolean> = {
    "delivered-rate": point.messagesPerSecond < limits.deliveredFraction * offered,
    loss: point.lossRatio > limits.lossGoal,
    latency: point.latencyUs === null || point.latencyUs.p99 > limits.p99LimitUs,
  };
  const failed = CRITERIA.filter((criterion) => failing[criterion]);
  if (failed.length === 0) return { verdict: "good", failed };
  // A late generator only adds latency and bunches messages: it can still show the system kept up
  // (above), but a failure it took part in may be its own — a stalled generator also reads its
  // answers late — unless even the median message waited beyond the limit more than the
  // generator's lateness p99 accounts for: then the system queues, whatever the generator did.
  const lagging = point.generatorLimited || point.sentMessagesPerSecond < limits.deliveredFraction * offered;
  const queueing =
    point.latencyUs !== null &&
    point.latencyUs.p50 - (point.latenessP99Us ?? Number.POSITIVE_INFINITY) > limits.p99LimitUs;
  return { verdict: lagging && !queueing ? "generator-limited" : "bad", failed };
}

function generatorReason(point: PointResult, limits: PeakLimits): string {
  if (point.sentMessagesPerSecond < limits.deliveredFraction * point.offeredMessagesPerSecond)
    return `the generator sent ${point.sentMessagesPerSecond.toFixed(0)} of ${point.offeredMessagesPerSecond} msg/s offered`;
  const lateness = point.latenessP99Us === null ? "" : ` (lateness p99 ${point.latenessP99Us.toFixed(0)} µs)`;
  return `the generator could not keep its schedule at ${point.offeredMessagesPerSecond} msg/s${lateness}`;
}

/**
 * Trials the generator may have failed before a rate is called generator-limited: twice those that
 * decide it. A busy machine holds a generator up now and then, and such a trial says nothing about
 * the system: it is measured again. A generator past its own limit fails every trial.
 */
export function generatorLimitedAfter(retries: number): number {
  return 2 * (retries + 1);
}

/**
 * A rate's verdict from its trials so far, or null while undecided: the first verdict that
 * retries + 1 trials agree on (best two of three by default). A trial the generator may have
 * failed votes neither good nor bad; generatorLimitedAfter(retries) of those make the rate
 * generator-limited.
 */
export function rateVerdict(verdicts: readonly Verdict[], retries: number): Verdict | null {
  const votes: Record<Verdict, number> = { good: 0, bad: 0, "generator-limited": 0 };
  const needed = (verdict: Verdict) =>
    verdict === "generator-limited" ? generatorLimitedAfter(retries) : retries + 1;
  for (const verdict of verdicts) if (++votes[verdict] >= needed(verdict)) return verdict;
  return null;
}

class TrialLimit extends Error {}

/**
 * Searches the peak. Every trial is judged, and a rate's verdict is the majority of its trials:
 * retries + 1 trials that agree decide it (best two of three by default). Taking the best of
 * several trials instead would bias the peak upwards: near the peak a trial's outcome is a coin
 * whose odds fall with the rate, and the best of n tosses keeps calling rates good where most
 * trials fail (MLRsearch likewise lets a load's verdict rest on more than one trial).
 * When the confirmation fails, short trials were too optimistic near the peak: as in MLRsearch's
 * final phase, every later trial is long, and the search steps down from the failed rate by a
 * width that doubles each step, then bisects again. When it holds, long trials recheck the upper
 * bound too, by the same majority.
 * Trials on a system that does not change with trial length: 1 unloaded, about
 * |log_growth(peak/startRate)| + 1 to bracket, ⌈log2(ln growth / ln(1 + precision))⌉ to bisect and
 * 2 to confirm, each rate times (1 + retries); never more than maxTrials.
 */
export async function searchPeak(measure: Measure, options: PeakSearchOptions = {}): Promise<PeakResult> {
  const s = settingsOf(options);
  const curve: CurvePoint[] = [];
  let limits: PeakLimits | null = null;
  let good: number | null = null;
  let bad: number | null = null;
  let badFailed: Criterion[] = [];
  /** Every rate judged bad, with the criteria its last trial failed. */
  const bads: Array<{ rate: number; failed: Criterion[] }> = [];
  /** Set once a confirmation failed: from then on every trial is long. */
  let long = false;

  const record = (point: PointResult, phase: Phase, judged: ReturnType<typeof judge>): CurvePoint => {
    const entry: CurvePoint = { ...point, phase, ...judged };
    curve.push(entry);
    options.onPoint?.(entry);
    return entry;
  };
  const measureOnce = (rate: number, kind: TrialKind) => {
    if (curve.length >= s.maxTrials) throw new TrialLimit();
    return measure(rate, kind);
  };
  /** The verdict on a rate by rateVerdict over its trials, with the last trial that was not good. */
  const probe = async (rate: number, phase: Phase): Promise<{ verdict: Verdict; last: CurvePoint }> => {
    const verdicts: Verdict[] = [];
    let last: CurvePoint | null = null;
    for (;;) {
      const point = await measureOnce(rate, long || phase === "confirm" ? "confirm" : "search");
      const entry = record(point, phase, judge(point, limits!));
      if (entry.verdict !== "good") last = entry;
      verdicts.push(entry.verdict);
      const verdict = rateVerdict(verdicts, s.retries);
      if (verdict) return { verdict, last: last ?? entry };
    }
  };
  const result = (criterion: StopCriterion, messagesPerSecond: number | null, lagging?: CurvePoint) => ({
    messagesPerSecond,
    criterion,
    precision: s.precision,
    bounds: { good, bad },
    generatorLimited: lagging
      ? { messagesPerSecond: lagging.offeredMessagesPerSecond, reason: generatorReason(lagging, limits!) }
      : null,
    limits,
    knee: kneeOf(curve),
    trials: curve.length,
    curve,
  });
  const setBad = (rate: number, failed: Criterion[]) => {
    [bad, badFailed] = [rate, failed];
    bads.push({ rate, failed });
  };
  const found = () => result(CRITERIA.find((c) => badFailed.includes(c)) ?? "latency", good);

  try {
    // The unloaded reference, whose p99 sets the latency limit of every later trial: it must itself
    // keep up, so a rate that loses messages is stepped down from.
    let unloadedRate = s.unloadedRate;
    for (let heldUp = 0; ; ) {
      const point = await measureOnce(unloadedRate, "unloaded");
      if (point.latencyUs === null)
        throw new Error(
          `the unloaded trial at ${unloadedRate} msg/s delivered no message: no path to search`,
        );
      limits = {
        deliveredFraction: s.deliveredFraction,
        lossGoal: s.lossGoal,
        latencyFactor: s.latencyFactor,
        unloadedP99Us: point.latencyUs.p99,
        p99LimitUs: s.latencyFactor * point.latencyUs.p99,
      };
      const judged = judge(point, limits);
      // A late generator inflates the reference every later trial is held to: it may account for
      // at most half of it (lateness p99 ≤ p99 / 2), so at least half is the path's own latency.
      const inflated =
        point.generatorLimited &&
        !((point.latenessP99Us ?? Number.POSITIVE_INFINITY) <= point.latencyUs.p99 / 2);
      const entry = record(
        point,
        "unloaded",
        inflated ? { ...judged, verdict: "generator-limited" } : judged,
      );
      if (entry.verdict === "good") break;
      if (entry.verdict === "generator-limited") {
        if (++heldUp >= generatorLimitedAfter(s.retries)) return result("generator-limited", null, entry);
        continue;
      }
      setBad(unloadedRate, entry.failed);
      if (unloadedRate <= s.minRate) return result("min-rate", null);
      unloadedRate = Math.max(s.minRate, roundRate(unloadedRate / s.growth));
    }
    good = unloadedRate;
    /** The highest rate a long trial found good: the floor of a step-down in the long phase. */
    const longGood = unloadedRate;

    let next: number = s.startRate;
    let width = 2 * s.precision;
    for (;;) {
      // Sweep until a good and a bad rate bracket the peak: up from the unloaded rate, or down
      // from a failed confirmation.
      while (good === null || bad === null) {
        if (long) {
          next = bad! / (1 + width);
          width *= 2;
          if (next <= longGood) {
            good = longGood;
            break;
          }
        } else if (next <= good!) next = good! * s.growth;
        next = roundRate(next);
        if (next > s.maxRate) {
          if (good! >= s.maxRate) return result("max-rate", null);
          next = s.maxRate;
        }
        const { verdict, last } = await probe(next, "sweep");
        if (verdict === "generator-limited") return result("generator-limited", null, last);
        if (verdict === "good") good = next;
        else setBad(next, last.failed);
      }
      // Bisect in log space (the geometric mean) until the bracket is within the precision.
      while (bad! / good! - 1 > s.precision) {
        const middle = roundRate(Math.sqrt(good! * bad!));
        const { verdict, last } = await probe(middle, "bisect");
        if (verdict === "generator-limited") return result("generator-limited", null, last);
        if (verdict === "good") good = middle;
        else setBad(middle, last.failed);
      }
      // In the long phase the lower bound already rests on a long trial.
      if (long) return found();
      const { verdict, last } = await probe(good, "confirm");
      if (verdict === "generator-limited") return result("generator-limited", null, last);
      if (verdict === "bad") {
        setBad(good, last.failed);
        [good, long] = [null, true];
        continue;
      }
      // MLRsearch validates both bounds at the final trial duration: long trials at the upper
      // bound. Good there, the short trials' verdict was interference: the search resumes above.
      if ((await probe(bad!, "confirm")).verdict !== "good") return found();
      good = bad!;
      const above = bads.filter((b) => b.rate > good!).sort((a, b) => a.rate - b.rate)[0];
      [bad, badFailed] = above ? [above.rate, above.failed] : [null, []];
      next = good * s.growth;
    }
  } catch (error) {
    if (error instanceof TrialLimit) return result("trial-limit", null);
    throw error;
  }
}
