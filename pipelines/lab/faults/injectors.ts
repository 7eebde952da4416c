/**
 * The fault injectors (eleven kinds). Each records its fault in the lab state file before it takes effect and
 * removes the record only after undoing it; recover is idempotent (safe after an agent already
 * mitigated). Service faults act inside the service (fault endpoint), on its process (kill -9), on
 * its config (wrong dependency address) or on its scale; resource faults act on the lab's proxies
 * only, never on the shared PostgreSQL/Redis.
 */
import { ConfigError, NotFoundError } from '../../core/errors.ts';
import { LAB_SERVICES, depsOf } from '../app/topology.ts';
import type { FaultDescription, FaultInjector, FaultKind, FaultSpec, LabApp, LabComponent, LabServiceName } from '../types.ts';
import { FAULT_KINDS } from '../types.ts';
import { updateState } from './state.ts';

const DEFAULT_WORKERS = 8;

function record(app: LabApp, spec: FaultSpec): void {
  updateState((s) => {
    s.faults.push({ runId: app.runId, spec, since: Date.now() });
  });
}

function unrecord(app: LabApp, spec: FaultSpec): void {
  updateState((s) => {
    s.faults = s.faults.filter((f) => !(f.runId === app.runId && f.spec.kind === spec.kind && f.spec.target === spec.target));
  });
}

function service(spec: FaultSpec): LabServiceName {
  if (!(LAB_SERVICES as readonly string[]).includes(spec.target)) throw new ConfigError([{ path: 'fault.target', message: `${spec.kind} needs a service (${LAB_SERVICES.join(', ')}), got ${spec.target}` }]);
  return spec.target as LabServiceName;
}

function resource(spec: FaultSpec, want: 'postgres' | 'redis'): 'postgres' | 'redis' {
  if (spec.target !== want) throw new ConfigError([{ path: 'fault.target', message: `${spec.kind} targets ${want}, got ${spec.target}` }]);
  return want;
}

/** The dependency a misconfig fault breaks: the asked one, or the service's first. */
function misconfigDep(spec: FaultSpec): LabComponent {
  const name = service(spec);
  const deps = depsOf(name);
  const dep = spec.params?.dependency ?? deps[0];
  if (!dep || !deps.includes(dep)) throw new ConfigError([{ path: 'fault.params.dependency', message: `${name} has no dependency ${dep ?? '(none)'}: it uses ${deps.join(', ') || 'nothing'}` }]);
  return dep;
}

/** An address in the lab's own port block where nothing listens (base port + 9). */
function wrongAddress(app: LabApp): string {
  return `127.0.0.1:${app.service('frontend').port + 9}`;
}

function inServiceFault(kind: FaultKind, patch: (spec: FaultSpec) => Parameters<LabApp['setServiceFault']>[1], clear: Parameters<LabApp['setServiceFault']>[1], d: Omit<FaultDescription, 'kind' | 'component' | 'mitigation' | 'text'> & { text: (spec: FaultSpec) => string }): FaultInjector {
  return {
    kind,
    describe: (spec) => ({ kind, component: service(spec), signals: d.signals, layer: d.layer, faultType: d.faultType, mitigation: { op: 'restart', target: service(spec) }, text: d.text(spec) }),
    inject: async (app, spec) => {
      const name = service(spec);
      record(app, spec);
      await app.setServiceFault(name, patch(spec));
    },
    recover: async (app, spec) => {
      const name = service(spec);
      // A restarted (or crashed) service has no fault left; only a live one needs clearing.
      if (await app.healthy(name)) await app.setServiceFault(name, clear);
      unrecord(app, spec);
    },
  };
}

const injectors: Record<FaultKind, FaultInjector> = {
  latency: inServiceFault('latency', (s) => ({ latencyMs: s.params?.latencyMs ?? 400 }), { latencyMs: 0 }, {
    signals: ['latency'],
    layer: 'application',
    faultType: 'code-defect',
    text: (s) => `${s.target} answers every request ${s.params?.latencyMs ?? 400} ms late`,
  }),
  errors: inServiceFault('errors', (s) => ({ errorRate: s.params?.errorRate ?? 0.5 }), { errorRate: 0 }, {
    signals: ['errors'],
    layer: 'application',
    faultType: 'code-defect',
    text: (s) => `${s.target} fails ${Math.round((s.params?.errorRate ?? 0.5) * 100)}% of requests with 500`,
  }),
  'cpu-hog': inServiceFault('cpu-hog', (s) => ({ cpuHog: s.params?.cpuShare ?? 0.9 }), { cpuHog: 0 }, {
    signals: ['cpu', 'latency'],
    layer: 'application',
    faultType: 'resource-exhaustion',
    text: (s) => `${s.target} burns ${Math.round((s.params?.cpuShare ?? 0.9) * 100)}% of a core in a busy loop`,
  }),
  'memory-leak': inServiceFault('memory-leak', (s) => ({ leakBytesPerS: s.params?.leakBytesPerS ?? 8 * 1024 * 1024 }), { leakBytesPerS: 0 }, {
    signals: ['memory'],
    layer: 'application',
    faultType: 'resource-exhaustion',
    text: (s) => `${s.target} leaks ${((s.params?.leakBytesPerS ?? 8 * 1024 * 1024) / 1048576).toFixed(1)} MiB/s`,
  }),
  crash: {
    kind: 'crash',
    describe: (spec) => ({ kind: 'crash', component: service(spec), signals: ['up', 'errors'], layer: 'virtualization', faultType: 'operation-error', mitigation: { op: 'restart', target: service(spec) }, text: `${spec.target} killed with SIGKILL (not restarted)` }),
    inject: async (app, spec) => {
      const name = service(spec);
      record(app, spec);
      const pid = app.service(name).pid;
      if (!pid) return;
      process.kill(pid, 'SIGKILL');
      // Wait until the parent saw the exit, so services() reports pid 0 from here on.
      for (let i = 0; i < 100 && app.service(name).pid; i++) await new Promise((r) => setTimeout(r, 20));
    },
    recover: async (app, spec) => {
      const name = service(spec);
      if (!(await app.healthy(name))) await app.restart(name);
      unrecord(app, spec);
    },
  },
  misconfig: {
    kind: 'misconfig',
    describe: (spec) => ({
      kind: 'misconfig',
      component: service(spec),
      signals: ['errors'],
      layer: 'application',
      faultType: 'misconfiguration',
      mitigation: { op: 'rollback-config', target: service(spec) },
      text: `${spec.target}'s config points ${misconfigDep(spec)} at a port where nothing listens`,
    }),
    inject: async (app, spec) => {
      const name = service(spec);
      const dep = misconfigDep(spec);
      record(app, spec);
      app.setConfig(name, { deps: { [dep]: wrongAddress(app) } });
      await app.restart(name);
    },
    recover: async (app, spec) => {
      const name = service(spec);
      const dep = misconfigDep(spec);
      if (app.config(name).deps[dep] === wrongAddress(app)) await app.rollbackConfig(name);
      else if (!(await app.healthy(name))) await app.restart(name);
      unrecord(app, spec);
    },
  },
  'scale-zero': {
    kind: 'scale-zero',
    describe: (spec) => ({ kind: 'scale-zero', component: service(spec), signals: ['errors'], layer: 'virtualization', faultType: 'operation-error', mitigation: { op: 'scale', target: service(spec), workers: DEFAULT_WORKERS }, text: `${spec.target} scaled to zero workers (every request gets 503)` }),
    inject: async (app, spec) => {
      const name = service(spec);
      record(app, spec);
      await app.scale(name, 0);
    },
    recover: async (app, spec) => {
      const name = service(spec);
      if (app.service(name).workers === 0) await app.scale(name, DEFAULT_WORKERS);
      unrecord(app, spec);
    },
  },
  hang: {
    kind: 'hang',
    describe: (spec) => ({
      kind: 'hang',
      component: service(spec),
      signals: ['up', 'latency', 'errors'],
      layer: 'virtualization',
      faultType: 'operation-error',
      mitigation: { op: 'restart', target: service(spec) },
      text: `${spec.target} frozen with SIGSTOP: it accepts connections but never answers`,
    }),
    inject: async (app, spec) => {
      const name = service(spec);
      record(app, spec);
      const pid = app.service(name).pid;
      if (pid) process.kill(pid, 'SIGSTOP');
    },
    recover: async (app, spec) => {
      const name = service(spec);
      const pid = app.service(name).pid;
      if (pid) {
        try {
          process.kill(pid, 'SIGCONT');
        } catch {
          /* exited meanwhile */
        }
      }
      if (!(await app.healthy(name))) await app.restart(name);
      unrecord(app, spec);
    },
  },
  'slow-db': {
    kind: 'slow-db',
    describe: (spec) => ({ kind: 'slow-db', component: resource(spec, 'postgres'), signals: ['latency'], layer: 'application', faultType: 'dependency-problem', mitigation: { op: 'recover', target: 'postgres' }, text: `PostgreSQL answers ${spec.params?.delayMs ?? 150} ms late per round trip` }),
    inject: async (app, spec) => {
      resource(spec, 'postgres');
      record(app, spec);
      await app.proxy('postgres').setDelay(spec.params?.delayMs ?? 150);
    },
    recover: async (app, spec) => {
      await app.proxy(resource(spec, 'postgres')).setDelay(0);
      unrecord(app, spec);
    },
  },
  'db-down': {
    kind: 'db-down',
    describe: (spec) => ({ kind: 'db-down', component: resource(spec, 'postgres'), signals: ['errors', 'up'], layer: 'application', faultType: 'dependency-problem', mitigation: { op: 'recover', target: 'postgres' }, text: 'PostgreSQL unreachable (connections reset)' }),
    inject: async (app, spec) => {
      resource(spec, 'postgres');
      record(app, spec);
      await app.proxy('postgres').setCut(true);
    },
    recover: async (app, spec) => {
      await app.proxy(resource(spec, 'postgres')).setCut(false);
      unrecord(app, spec);
    },
  },
  'redis-down': {
    kind: 'redis-down',
    describe: (spec) => ({ kind: 'redis-down', component: resource(spec, 'redis'), signals: ['errors', 'up'], layer: 'application', faultType: 'dependency-problem', mitigation: { op: 'recover', target: 'redis' }, text: 'Redis unreachable (connections reset)' }),
    inject: async (app, spec) => {
      resource(spec, 'redis');
      record(app, spec);
      await app.proxy('redis').setCut(true);
    },
    recover: async (app, spec) => {
      await app.proxy(resource(spec, 'redis')).setCut(false);
      unrecord(app, spec);
    },
  },
};

export function injectorFor(kind: FaultKind): FaultInjector {
  const i = (injectors as Partial<Record<string, FaultInjector>>)[kind];
  if (!i) throw new NotFoundError(`no fault injector ${kind} (known: ${FAULT_KINDS.join(', ')})`);
  return i;
}
