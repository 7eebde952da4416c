/**
 * Options of the alerts server, with their defaults, validated together (every problem named).
 */
import { ConfigError, type ConfigIssue } from '../../pipelines/core/errors.ts';

export interface AlertsOptions {
  /** host:port of the HTTP API (subscriptions, SSE, /metrics, /healthz); port 0 picks one. */
  listen: string;
  /** Alertmanager base URLs (…/api/v2/alerts is appended); empty disables the push. */
  alertmanager: string[];
  /** Re-send interval of firing alerts to Alertmanager. */
  resendMs: number;
  /** How often due alerts are pushed. */
  tickMs: number;
  alertmanagerTimeoutMs: number;
  /** How long an anomaly's alert fires after its latest anomaly when no open incident holds it. */
  anomalyHoldMs: number;
  /** SSE heartbeat (comment line) interval. */
  heartbeatMs: number;
  /** Events kept per partition for SSE replay. */
  bufferPerPartition: number;
  /** This server's URL as users reach it (generatorURL in Alertmanager); default http://<listen>. */
  externalUrl: string;
  /** Largest subscription request body. */
  maxBodyBytes: number;
}

export const ALERTS_DEFAULTS = {
  listen: '127.0.0.1:9095',
  alertmanager: [] as string[],
  resendMs: 60_000,
  tickMs: 1000,
  alertmanagerTimeoutMs: 10_000,
  anomalyHoldMs: 15 * 60_000,
  heartbeatMs: 15_000,
  bufferPerPartition: 10_000,
  externalUrl: '',
  maxBodyBytes: 64 * 1024,
};

export function alertsOptions(partial: Partial<AlertsOptions>): AlertsOptions {
  const given = Object.fromEntries(Object.entries(partial).filter(([, v]) => v !== undefined)) as Partial<AlertsOptions>;
  const o: AlertsOptions = { ...ALERTS_DEFAULTS, ...given };
  const issues: ConfigIssue[] = [];
  if (typeof o.listen !== 'string' || !/^.+:\d{1,5}$/.test(o.listen)) issues.push({ path: 'listen', message: `expected host:port (e.g. 127.0.0.1:9095), got ${JSON.stringify(o.listen)}` });
  o.alertmanager.forEach((u, i) => {
    try {
      const p = new URL(u);
      if (p.protocol !== 'http:' && p.protocol !== 'https:') throw new Error('not http(s)');
    } catch {
      issues.push({ path: `alertmanager[${i}]`, message: `expected an http(s) URL such as http://127.0.0.1:9093, got ${JSON.stringify(u)}` });
    }
  });
  for (const k of ['resendMs', 'tickMs', 'alertmanagerTimeoutMs', 'anomalyHoldMs', 'heartbeatMs', 'bufferPerPartition', 'maxBodyBytes'] as const) {
    const v = o[k];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) issues.push({ path: k, message: `expected a positive integer, got ${JSON.stringify(v)}` });
  }
  if (o.tickMs > o.resendMs) issues.push({ path: 'tickMs', message: `must not exceed resendMs (${o.resendMs})` });
  if (o.externalUrl) {
    try {
      new URL(o.externalUrl);
    } catch {
      issues.push({ path: 'externalUrl', message: `expected a URL, got ${JSON.stringify(o.externalUrl)}` });
    }
  }
  if (issues.length > 0) throw new ConfigError(issues);
  return { ...o, externalUrl: o.externalUrl.replace(/\/+$/, '') };
}
