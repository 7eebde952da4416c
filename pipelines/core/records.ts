/**
 * TypeScript shapes of the Avro records in schemas/ (as avsc decodes them: longs as numbers,
 * maps as plain objects, unions of null and one type as the value or null).
 */

export type Severity = 'info' | 'warning' | 'critical';
export type RuleKind = 'FN' | 'FP';

export interface Sample {
  timestampMs: number;
  value: number;
  stale: boolean;
}

export interface MetricBatch {
  fingerprint: string;
  labels: Record<string, string>;
  samples: Sample[];
  source: string;
  receivedAtMs: number;
  exemplarsDropped: number;
  histogramsDropped: number;
}

export interface ClauseValue {
  text: string;
  value: number;
}

export interface Anomaly {
  id: string;
  fingerprint: string;
  labels: Record<string, string>;
  timestampMs: number;
  value: number;
  ruleId: string | null;
  ruleVersion: string | null;
  ruleKind: RuleKind | null;
  severity: Severity;
  detector: string;
  baseScore: number;
  explanation: string;
  clauses: ClauseValue[];
  detectedAtMs: number;
}

export interface Incident {
  id: string;
  status: 'OPEN' | 'UPDATED' | 'RESOLVED';
  openedAtMs: number;
  updatedAtMs: number;
  resolvedAtMs: number | null;
  severity: Severity;
  components: string[];
  anomalyIds: string[];
  anomalyCount: number;
  summary: string;
}

export interface Evidence {
  metric: string;
  score: number;
  detail: string;
}

export interface RootCause {
  node: string;
  component: string;
  score: number;
  path: string[];
  evidence: Evidence[];
}

export interface RcaResult {
  incidentId: string;
  graphVersion: string | null;
  method: string;
  causes: RootCause[];
  note: string;
  producedAtMs: number;
}

export interface RuleRecord {
  id: string;
  version: string;
  kind: RuleKind;
  severity: Severity;
  description: string;
  expr: string;
  selector: Record<string, string>;
  source: string;
  trainingScore: number | null;
  publishedAtMs: number;
}

export interface GraphNode {
  id: string;
  component: string;
  metric: string;
  observed: boolean;
}

export interface GraphEdge {
  from: string;
  to: string;
  provenance: 'DOCS' | 'DATA' | 'BOTH' | 'FEEDBACK';
  confidence: number;
  reason: string;
}

export interface CausalGraphRecord {
  name: string;
  version: string;
  nodes: GraphNode[];
  edges: GraphEdge[];
  createdAtMs: number;
  source: string;
}

export interface Tensor {
  name: string;
  datatype: string;
  shape: number[];
  data: number[];
}

export interface InferenceRequest {
  id: string;
  model: string;
  modelVersion: string | null;
  inputs: Tensor[];
  deadlineMs: number | null;
  sentAtMs: number;
}

export interface InferenceResult {
  requestId: string;
  model: string;
  status: 'ok' | 'rejected' | 'late' | 'error';
  outputs: Tensor[];
  error: string | null;
  queueMs: number;
  batchWaitMs: number;
  execMs: number;
  totalMs: number;
  batchSize: number;
  /** The deadline the request was held to, epoch ms (null in records written before it existed). */
  deadlineMs?: number | null;
}
