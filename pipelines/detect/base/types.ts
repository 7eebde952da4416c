/**
 * The base detector contract: a statistical detector that scores every sample, whose labels the
 * rules then correct (FP rules remove, FN rules add). Implementations expect strictly increasing
 * timestamps and finite values — SeriesDetector filters the rest before calling them.
 */
export interface BaseResult {
  /** How unusual the sample is, in the detector's own unit (robust z, residual sigmas); 0 while warming up. */
  score: number;
  isAnomaly: boolean;
  /**
   * The alarm condition held (after warm-up), whether or not the rest period let the alarm
   * through: what the Argos trainer replays with FP vetoes (rest.ts). Absent: `isAnomaly`.
   */
  candidate?: boolean;
  /** Why, in one sentence with the numbers that produced the score. */
  explanation: string;
  /** False during warm-up: the detector never flags before it has seen enough data. */
  ready: boolean;
}

/**
 * A scored result whose sentence is built only when read. Formatting five numbers into text cost
 * more than scoring the sample, and the sentence is read only for the few samples reported.
 * `toJSON` keeps it in serialized output like a plain field.
 */
export class ScoredResult implements BaseResult {
  private text: string | undefined;

  constructor(
    readonly score: number,
    readonly isAnomaly: boolean,
    private readonly explain: () => string,
    readonly candidate: boolean = isAnomaly,
  ) {}

  get ready(): boolean {
    return true;
  }

  get explanation(): string {
    return (this.text ??= this.explain());
  }

  toJSON(): BaseResult {
    return { score: this.score, isAnomaly: this.isAnomaly, candidate: this.candidate, explanation: this.explanation, ready: true };
  }
}

/** A sample scored before the detector has seen enough data: no score, and a sentence saying so. */
export class WarmingUp implements BaseResult {
  constructor(
    private readonly seen: number,
    private readonly warmup: number,
  ) {}

  get score(): number {
    return 0;
  }

  get isAnomaly(): boolean {
    return false;
  }

  get candidate(): boolean {
    return false;
  }

  get ready(): boolean {
    return false;
  }

  get explanation(): string {
    return `warming up (${this.seen}/${this.warmup} samples)`;
  }

  toJSON(): BaseResult {
    return { score: 0, isAnomaly: false, candidate: false, explanation: this.explanation, ready: false };
  }
}

export interface BaseDetector {
  readonly name: string;
  /** Accepted samples after a raised alarm during which no new alarm is raised (one alarm per event; absent: 0). */
  readonly rest?: number;
  update(t: number, v: number): BaseResult;
  /**
   * The alarm returned by the last `update` was removed by an FP rule: it was never raised, so it
   * starts no rest period (rest.ts). No effect when that update raised no alarm. SeriesDetector
   * calls it; a detector without a rest need not implement it.
   */
  veto?(): void;
}
