/**
 * The lab's shared vocabulary (issue #8): what LAB-APP exports (app, faults, workload, Prometheus,
 * catalog) and LAB-RUN builds on (problems, agents, scoring, CLI). Types and constant lists only;
 * the functions live in
 *   pipelines/lab/app/index.ts         startApp, LAB_SERVICES, LAB_RESOURCES
 *   pipelines/lab/faults/index.ts      injectorFor, FAULT_KINDS, cleanupLeftovers, installSignalHandlers,
 *                                      activeFaults, labStateFile
 *   pipelines/lab/workload/index.ts    runWorkload
 *   pipelines/lab/prometheus/index.ts  startPrometheus
 * Changing a name here breaks LAB-RUN: propose in /work/notes/lab-requests.md first.
 */
import type { Logger } from '../core/logger.ts';

// ---------------------------------------------------------------------------------------------
// Signals: the recorded series `lab:<signal>{component="<component>", signal="<signal>"}` that
// Prometheus remote-writes; causal-graph node ids are `<component>:<signal>` (e.g. `search:latency`).

export const LAB_SIGNALS = ['latency', 'errors', 'traffic', 'cpu', 'memory', 'up'] as const;
export type LabSignal = (typeof LAB_SIGNALS)[number];
/** Signals of the resources (postgres, redis): measured client-side by the services that use them. */
export const RESOURCE_SIGNALS = ['latency', 'errors', 'traffic', 'up'] as const satisfies readonly LabSignal[];

/** Services of the hotel-reservation app (each a separate process). */
export type LabServiceName = 'frontend' | 'search' | 'geo' | 'rate' | 'profile' | 'reservation' | 'user';
/** Shared servers the app depends on, reached through lab-owned TCP proxies. */
export type LabResourceName = 'postgres' | 'redis';
/** Anything that can be a root cause / graph component. */
export type LabComponent = LabServiceName | LabResourceName;

// ---------------------------------------------------------------------------------------------
// The application

export interface ServiceInfo {
  name: LabServiceName;
  port: number;
  /** http://127.0.0.1:<port> */
  url: string;
  /** 0 while the process is down (crashed and not restarted). */
  pid: number;
  /** Concurrent request slots ("workers"); 0 = scaled to zero (every request gets 503). */
  workers: number;
  /** Services this one calls over HTTP. */
  calls: LabServiceName[];
  /** Resources this one uses. */
  stores: LabResourceName[];
}

/** A service's config file (runDir/config/<name>.json); setConfig patches it, restart applies it. */
export interface ServiceConfig {
  /** Dependency addresses "127.0.0.1:<port>" by dependency name (services and resources). */
  deps: Partial<Record<LabComponent, string>>;
  workers: number;
  /** Per-call timeout towards dependencies (ms). */
  timeoutMs: number;
}

export interface LogLine {
  /** epoch ms */
  ts: number;
  level: 'debug' | 'info' | 'warn' | 'error';
  service: LabServiceName;
  msg: string;
  [field: string]: unknown;
}

export interface StartAppOptions {
  /** Working directory of this run: config/, logs/, pids. Created if missing. */
  runDir: string;
  /** Services take basePort+0..basePort+6, the proxies basePort+10 (postgres), +11 (redis), +12 (admin); +9 stays free (misconfig points there). */
  basePort: number;
  seed?: number;
  log?: Logger;
  /** Default 127.0.0.1:5432 / db test */
  postgres?: { host: string; port: number; database: string; user?: string };
  /** Default 127.0.0.1:6379 */
  redis?: { host: string; port: number };
}

export interface LabApp {
  /** Unique id of this run; prefix of its tables (lab_<id>_*) and Redis keys (lab:<id>:*). */
  readonly runId: string;
  readonly runDir: string;
  services(): ServiceInfo[];
  service(name: LabServiceName): ServiceInfo;
  /** The frontend's base URL (what workloads target). */
  readonly frontendUrl: string;
  /** Kill (SIGTERM, then SIGKILL) and start again with the current config file; resolves when healthy. */
  restart(name: LabServiceName): Promise<void>;
  config(name: LabServiceName): ServiceConfig;
  /** Writes the patched config (keeps the previous one for rollback); takes effect on restart(). */
  setConfig(name: LabServiceName, patch: Partial<ServiceConfig>): void;
  /** Restores the config before the last setConfig and restarts the service. */
  rollbackConfig(name: LabServiceName): Promise<void>;
  /** Live change of the service's concurrent request slots (0 = scaled to zero). */
  scale(name: LabServiceName, workers: number): Promise<void>;
  /** The process is alive and GET /health answers 200 within 1 s (says nothing of its dependencies). */
  healthy(name: LabServiceName): Promise<boolean>;
  /** Parsed JSON log lines of the service (newest last). */
  logs(name: LabServiceName, opts?: { sinceMs?: number; limit?: number }): LogLine[];
  /** What Prometheus scrapes: every service plus the proxies' process (component "proxy"). */
  scrapeTargets(): ScrapeTarget[];
  /** Low-level: the proxy of a resource (used by the slow-db / redis-down injectors). */
  proxy(resource: LabResourceName): ProxyControl;
  /** Low-level: merges the patch into the service's in-process fault state (a 0 clears that fault); used by the injectors. */
  setServiceFault(name: LabServiceName, fault: ServiceFaultState): Promise<void>;
  /** Kills everything it started, drops its tables and keys, removes it from the lab state file. */
  stop(): Promise<void>;
}

/** In-process fault state of a service, set over POST /admin/fault (cleared by restart). */
export interface ServiceFaultState {
  latencyMs?: number;
  errorRate?: number;
  /** Busy-loop share of each 100 ms (0..1). */
  cpuHog?: number;
  /** Bytes retained per second. */
  leakBytesPerS?: number;
}

export interface ProxyControl {
  readonly resource: LabResourceName;
  /** 127.0.0.1:<port> the services connect to */
  readonly address: string;
  /** Extra delay per forwarded chunk (ms), 0 = none. */
  setDelay(ms: number): Promise<void>;
  /** Cut: existing connections are destroyed, new ones refused (reset). */
  setCut(cut: boolean): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// Faults

export const FAULT_KINDS = [
  'latency',
  'errors',
  'cpu-hog',
  'memory-leak',
  'crash',
  'misconfig',
  'slow-db',
  'redis-down',
  'scale-zero',
  'db-down',
  'hang',
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export interface FaultSpec {
  kind: FaultKind;
  /** Service for service faults; for slow-db / db-down 'postgres', for redis-down 'redis'. */
  target: LabComponent;
  /** latency: ms (default 400); errors: ratio (default 0.5); cpu-hog: share (default 0.9);
   *  memory-leak: bytes/s (default 8 MiB); slow-db: ms added per forwarded chunk, each way (default 150, about 300 ms per query);
   *  misconfig: which dependency gets the wrong address (default: the first the service has). */
  params?: { latencyMs?: number; errorRate?: number; cpuShare?: number; leakBytesPerS?: number; delayMs?: number; dependency?: LabComponent };
}

/** AIOpsLab-style RCA labels and the mitigation that undoes the fault on the live system. */
export interface FaultDescription {
  kind: FaultKind;
  /** The root-cause component (what localization should name). */
  component: LabComponent;
  /** Signals that move (for detection/localization evaluators). */
  signals: LabSignal[];
  /** AIOpsLab system level */
  layer: 'application' | 'virtualization';
  /** AIOpsLab fault type */
  faultType: 'code-defect' | 'misconfiguration' | 'operation-error' | 'dependency-problem' | 'resource-exhaustion';
  /** Allow-listed exec that mitigates it; 'recover' = only the injector's recover (shared resource). */
  mitigation: { op: 'restart' | 'rollback-config' | 'scale' | 'recover'; target: LabComponent; workers?: number };
  text: string;
}

export interface FaultInjector {
  kind: FaultKind;
  describe(spec: FaultSpec): FaultDescription;
  /** Records the fault in the lab state file, then makes it take effect. */
  inject(app: LabApp, spec: FaultSpec): Promise<void>;
  /** Undoes it (idempotent; fine after the mitigation already did) and removes the record. */
  recover(app: LabApp, spec: FaultSpec): Promise<void>;
}

/** A process the lab started: its pid and start time (/proc/<pid>/stat), so a reused pid is never taken for it. */
export interface LabProc {
  pid: number;
  start: number;
}

/**
 * The lab state file ($PANOPTES_LAB_STATE, else $XDG_RUNTIME_DIR/panoptes-lab/state.json, else
 * ~/.local/state/panoptes-lab/state.json; see faults/state.ts for what is trusted and how).
 */
export interface LabState {
  /** `token`: random, in every process's environment (PANOPTES_LAB_TOKEN) and the run's marker files. */
  apps: Array<{ runId: string; token: string; runDir: string; ownerPid: number; procs: LabProc[]; tables: string[]; redisPrefix: string; postgres: { host: string; port: number; database: string }; redis: { host: string; port: number } }>;
  faults: Array<{ runId: string; spec: FaultSpec; since: number }>;
  /** `dataDir`: the TSDB folder, under the lab's own root, marked with the token. */
  prometheus: Array<{ pid: number; start: number; token: string; dataDir: string; ownerPid: number }>;
}

export interface CleanupReport {
  killed: number[];
  faultsRecovered: FaultSpec[];
  tablesDropped: string[];
  keysDeleted: number;
}

// ---------------------------------------------------------------------------------------------
// Workload

export interface WorkloadSpec {
  shape: 'poisson' | 'diurnal' | 'burst';
  /** Mean arrivals per second (diurnal: the mean over a period; burst: the base rate). */
  rps: number;
  durationMs: number;
  seed: number;
  /** Hard cap on requests (default rps*duration*3). */
  maxRequests?: number;
  /** diurnal: period (default durationMs); burst: every (default 10 s), length (2 s), factor (5). */
  periodMs?: number;
  burst?: { everyMs: number; lengthMs: number; factor: number };
  /** Per-request timeout (default 2000 ms). */
  timeoutMs?: number;
}

export interface WorkloadStats {
  sent: number;
  ok: number;
  /** HTTP >= 500 or network errors or timeouts */
  errors: number;
  /** Arrivals not sent because maxRequests or in-flight cap was reached. */
  dropped: number;
  p50Ms: number;
  p99Ms: number;
  byRoute: Record<string, { sent: number; errors: number }>;
  durationMs: number;
}

// ---------------------------------------------------------------------------------------------
// Prometheus

/** ServiceInfo satisfies it; pass app.scrapeTargets() so the resources' `up` is recorded too. */
export interface ScrapeTarget {
  name: string;
  port: number;
}

export interface PrometheusOptions {
  runDir: string;
  port: number;
  targets: ScrapeTarget[];
  /** e.g. http://127.0.0.1:<port>/api/v1/write (the Panoptes remote-write receiver); none = no remote_write. */
  remoteWriteUrl?: string;
  /** default 1 */
  scrapeIntervalS?: number;
  log?: Logger;
}

export interface PromSample {
  labels: Record<string, string>;
  value: number;
}
export interface PromSeries {
  labels: Record<string, string>;
  /** [epoch ms, value] */
  points: Array<[number, number]>;
}

export interface LabPrometheus {
  /** http://127.0.0.1:<port> */
  url: string;
  pid: number;
  query(promql: string, atMs?: number): Promise<PromSample[]>;
  queryRange(promql: string, startMs: number, endMs: number, stepS: number): Promise<PromSeries[]>;
  /** Resolves when every target has been scraped up once and the rules produced lab:up. */
  ready(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}
