/**
 * The incidents stage's front door: anomalies → incident lifecycle records. Pure grouping
 * (correlate.ts), state rebuilt from topics (rebuild.ts), the online correlator (consumer.ts).
 * Other folders import only this file.
 */
export { IncidentCorrelator, correlateAll, validateCorrelatorOptions, defaultCorrelatorOptions, dependencyGraphFromEdges, type CorrelatorOptions, type DependencyGraph } from './correlate.ts';
export { lifecycleKey, rebuildCorrelator, componentDependencies, dependencyGraphOf } from './rebuild.ts';
export { startIncidentCorrelator, startIncidentsFromSpec, type IncidentCorrelatorOptions, type RunningIncidentCorrelator } from './consumer.ts';
export { runSpec as incidentsRunSpec, type IncidentsRunOptions } from './spec.ts';
export { readDependencyEdges } from './graph-file.ts';
