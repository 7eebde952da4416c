/**
 * Prometheus configuration for the lab (pure): one scrape job over every lab process, recording
 * rules that turn raw service metrics into the per-component signals the pipeline and RCA read
 * (`lab:<signal>{component, signal}`), and a remote_write that keeps only those series. Written as
 * JSON, which Prometheus's YAML loader reads as it is.
 */
import type { ScrapeTarget } from '../types.ts';

/** The window of rates and quantiles: long enough for a few scrapes at 1 s, short enough to react. */
export const WINDOW = '15s';
const RESOURCES = 'postgres|redis';

function svc(metric: string, extra = ''): string {
  return `${metric}{job="lab",component!="proxy"${extra}}`;
}

/** sum by component of a dependency metric, renaming its dep label to component. */
function byResource(expr: string, by = 'component'): string {
  return `sum by (${by}) (label_replace(${expr}, "component", "$1", "dep", "(.*)"))`;
}

export interface RecordingRule {
  record: string;
  expr: string;
  labels: { signal: string };
}

export function recordingRules(): RecordingRule[] {
  const w = WINDOW;
  const traffic = `sum by (component) (rate(${svc('lab_http_requests_total')}[${w}]))`;
  const depTraffic = byResource(`sum by (dep) (rate(lab_dependency_requests_total{dep=~"${RESOURCES}"}[${w}]))`);
  const rule = (signal: string, expr: string): RecordingRule => ({ record: `lab:${signal}`, expr, labels: { signal } });
  const errors = `(sum by (component) (rate(${svc('lab_http_requests_total', ',code=~"5.."')}[${w}])) or ${traffic} * 0) / clamp_min(${traffic}, 0.001)`;
  const depErrors = `(${byResource(`sum by (dep) (rate(lab_dependency_requests_total{dep=~"${RESOURCES}",outcome="error"}[${w}]))`)} or ${depTraffic} * 0) / clamp_min(${depTraffic}, 0.001)`;
  const latency = `(histogram_quantile(0.95, sum by (component, le) (rate(${svc('lab_http_request_duration_seconds_bucket', ',route!="unknown"')}[${w}]))) >= 0) or ${traffic} * 0`;
  const depLatency = `(histogram_quantile(0.95, ${byResource(`sum by (dep, le) (rate(lab_dependency_duration_seconds_bucket{dep=~"${RESOURCES}"}[${w}]))`, 'component, le')}) >= 0) or ${depTraffic} * 0`;
  // One rule per signal: services' own series, or (for postgres and redis) what their callers and
  // the proxy measure. Errors are 5xx ratios, 0 (not NaN) without traffic; latency is the p95 with
  // NaN (no requests in the window) replaced by 0.
  return [
    rule('traffic', `${traffic} or ${depTraffic}`),
    rule('errors', `(${errors}) or (${depErrors})`),
    rule('latency', `(${latency}) or (${depLatency})`),
    rule('cpu', `sum by (component) (rate(${svc('process_cpu_seconds_total')}[${w}]))`),
    rule('memory', `sum by (component) (${svc('process_resident_memory_bytes')})`),
    rule('up', `max by (component) (${svc('up')}) or max by (component) (label_replace(lab_proxy_up{job="lab"}, "component", "$1", "resource", "(.*)"))`),
  ];
}

export interface PromConfigOptions {
  targets: ScrapeTarget[];
  rulesFile: string;
  remoteWriteUrl?: string;
  scrapeIntervalS: number;
}

export function prometheusConfig(o: PromConfigOptions): Record<string, unknown> {
  const every = `${o.scrapeIntervalS}s`;
  return {
    global: { scrape_interval: every, scrape_timeout: `${Math.round(Math.max(500, o.scrapeIntervalS * 900))}ms`, evaluation_interval: every },
    rule_files: [o.rulesFile],
    scrape_configs: [
      {
        job_name: 'lab',
        static_configs: o.targets.map((t) => ({ targets: [`127.0.0.1:${t.port}`], labels: { component: t.name } })),
      },
    ],
    ...(o.remoteWriteUrl
      ? {
          remote_write: [
            {
              url: o.remoteWriteUrl,
              remote_timeout: '10s',
              // Only the recorded signals leave Prometheus: they are what the pipeline models.
              write_relabel_configs: [{ source_labels: ['__name__'], regex: 'lab:.*', action: 'keep' }],
              queue_config: { batch_send_deadline: '500ms', max_samples_per_send: 500, min_backoff: '100ms', max_backoff: '1s', retry_on_http_429: true },
              metadata_config: { send: false },
            },
          ],
        }
      : {}),
  };
}

export function rulesFileContent(scrapeIntervalS: number): Record<string, unknown> {
  return { groups: [{ name: 'lab', interval: `${scrapeIntervalS}s`, rules: recordingRules() }] };
}
