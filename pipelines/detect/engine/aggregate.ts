/**
 * Argos's deployment rule: FP rules may only remove base anomalies (label = min(base, ¬fp)), FN
 * rules may only add (label = max(·, fn)), FP first. So an FN rule firing is an anomaly even if
 * an FP rule also fires: FP rules speak only about the base detector's labels.
 */
export function combineLabels(base: boolean, fpFired: boolean, fnFired: boolean): boolean {
  const afterFp = base && !fpFired;
  return afterFp || fnFired;
}
