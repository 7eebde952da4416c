/**
 * Admission goes through a try-acquire controller (after Prometheus's rule-evaluation controller
 * and the OTel memory limiter): the scheduler asks before queueing a request and again before
 * putting it in a batch. A refusal is a typed value the caller counts, never an exception.
 */

export interface AdmissionRequest {
  /** Internal deadline (ms, scheduler clock). */
  deadline: number;
}

/** `cold`: refused because the model is not loaded and its load cannot meet the deadline. */
export type AdmissionDecision = { ok: true } | { ok: false; reason: string; cold?: boolean; estimate?: ArrivalEstimate };

/** Why a request cannot finish in time, ms from its arrival: start on a worker, work queued ahead, its own run, recent noise, and the headroom admission keeps. */
export interface ArrivalEstimate {
  startMs: number;
  aheadMs: number;
  ownMs: number;
  noiseMs: number;
  headroomMs: number;
}

export interface AdmissionController {
  /**
   * May `req` take a place, given the earliest time it could possibly finish? Clockwork admits
   * only what can still meet its deadline.
   */
  tryAcquire(req: AdmissionRequest, earliestFinish: number): AdmissionDecision;
}

const OK: AdmissionDecision = { ok: true };

/** Clockwork: refuse as soon as the deadline is certainly out of reach. */
export class DeadlineAdmission implements AdmissionController {
  tryAcquire(req: AdmissionRequest, earliestFinish: number): AdmissionDecision {
    if (req.deadline >= earliestFinish) return OK;
    return { ok: false, reason: `deadline cannot be met: earliest finish is ${(earliestFinish - req.deadline).toFixed(2)} ms past it` };
  }
}

/** The null object: admits everything and runs it in turn (the FIFO baseline). */
export class SequentialAdmission implements AdmissionController {
  tryAcquire(): AdmissionDecision {
    return OK;
  }
}
