/**
 * Subscriptions: what a user asked for (selectors, severities, kinds) and, optionally, where to
 * send it (a webhook). Validation is pure and reports every problem with its JSON path, so the
 * HTTP API can answer one 400 naming all of them.
 */
import { randomBytes } from 'node:crypto';
import type { Severity } from '../../pipelines/core/records.ts';
import type { ConfigIssue } from '../../pipelines/core/errors.ts';
import { ALERT_KINDS, SEVERITIES, type AlertKind, type EventFilter } from './events.ts';
import { compileSelectors } from './matchers.ts';

export interface WebhookTarget {
  url: string;
  /** HMAC-SHA256 key for the signature header. */
  secret: string;
  /** Retries after the first attempt; after the last one the alert is dead-lettered. */
  maxRetries: number;
  initialBackoffMs: number;
  maxBackoffMs: number;
  /** Per-attempt timeout. */
  timeoutMs: number;
}

export interface Subscription {
  id: string;
  name: string;
  /** Prometheus series selectors, a union; empty matches every alert. */
  match: string[];
  /** Severities wanted; empty means all. */
  severities: Severity[];
  /** Kinds wanted (anomaly, incident, rca); empty means all. */
  kinds: AlertKind[];
  webhook: WebhookTarget | null;
  createdAtMs: number;
}

export const WEBHOOK_DEFAULTS = { maxRetries: 5, initialBackoffMs: 500, maxBackoffMs: 60_000, timeoutMs: 10_000 } as const;

const KEYS = ['name', 'match', 'severities', 'kinds', 'webhook'];
const WEBHOOK_KEYS = ['url', 'secret', 'maxRetries', 'initialBackoffMs', 'maxBackoffMs', 'timeoutMs'];

export class SubscriptionInvalid extends Error {
  constructor(readonly issues: ConfigIssue[]) {
    super(issues.map((i) => `${i.path}: ${i.message}`).join('; '));
  }
}

function intIn(issues: ConfigIssue[], path: string, v: unknown, min: number, max: number): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    issues.push({ path, message: `expected an integer from ${min} to ${max}, got ${JSON.stringify(v)}` });
    return undefined;
  }
  return v;
}

function stringList(issues: ConfigIssue[], path: string, v: unknown): string[] {
  if (v === undefined) return [];
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) {
    issues.push({ path, message: `expected an array of strings, got ${JSON.stringify(v)}` });
    return [];
  }
  return v as string[];
}

/** Checks selectors, severities and kinds (shared by subscriptions and ad-hoc SSE queries). */
export function validateFilter(issues: ConfigIssue[], paths: { match: string; severities: string; kinds: string }, match: string[], severities: string[], kinds: string[]): void {
  match.forEach((m, i) => {
    try {
      compileSelectors([m]);
    } catch (err) {
      issues.push({ path: `${paths.match}[${i}]`, message: (err as Error).message });
    }
  });
  severities.forEach((s, i) => {
    if (!SEVERITIES.includes(s as Severity)) issues.push({ path: `${paths.severities}[${i}]`, message: `expected one of ${SEVERITIES.join(', ')}, got ${JSON.stringify(s)}` });
  });
  kinds.forEach((k, i) => {
    if (!ALERT_KINDS.includes(k as AlertKind)) issues.push({ path: `${paths.kinds}[${i}]`, message: `expected one of ${ALERT_KINDS.join(', ')}, got ${JSON.stringify(k)}` });
  });
}

/** Validates a create request's JSON body; throws SubscriptionInvalid listing every problem. */
export function subscriptionFromRequest(body: unknown, now: number, id = `sub_${randomBytes(8).toString('hex')}`): Subscription {
  const issues: ConfigIssue[] = [];
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new SubscriptionInvalid([{ path: '(body)', message: 'expected a JSON object' }]);
  const b = body as Record<string, unknown>;
  for (const k of Object.keys(b)) if (!KEYS.includes(k)) issues.push({ path: k, message: `unknown field (known: ${KEYS.join(', ')})` });
  let name = '';
  if (b.name !== undefined) {
    if (typeof b.name !== 'string' || b.name.length > 200) issues.push({ path: 'name', message: 'expected a string of at most 200 characters' });
    else name = b.name;
  }
  const match = stringList(issues, 'match', b.match);
  const severities = stringList(issues, 'severities', b.severities);
  const kinds = stringList(issues, 'kinds', b.kinds);
  validateFilter(issues, { match: 'match', severities: 'severities', kinds: 'kinds' }, match, severities, kinds);
  let webhook: WebhookTarget | null = null;
  if (b.webhook !== undefined && b.webhook !== null) {
    if (typeof b.webhook !== 'object' || Array.isArray(b.webhook)) issues.push({ path: 'webhook', message: 'expected an object with at least "url"' });
    else {
      const w = b.webhook as Record<string, unknown>;
      for (const k of Object.keys(w)) if (!WEBHOOK_KEYS.includes(k)) issues.push({ path: `webhook.${k}`, message: `unknown field (known: ${WEBHOOK_KEYS.join(', ')})` });
      let url = '';
      if (typeof w.url !== 'string') issues.push({ path: 'webhook.url', message: 'required: an http:// or https:// URL' });
      else {
        try {
          const u = new URL(w.url);
          if (u.protocol !== 'http:' && u.protocol !== 'https:') issues.push({ path: 'webhook.url', message: `expected http or https, got ${u.protocol}` });
          url = w.url;
        } catch {
          issues.push({ path: 'webhook.url', message: `not a URL: ${JSON.stringify(w.url)}` });
        }
      }
      let secret = randomBytes(32).toString('base64url');
      if (w.secret !== undefined) {
        if (typeof w.secret !== 'string' || w.secret.length < 16) issues.push({ path: 'webhook.secret', message: 'expected a string of at least 16 characters (omit it to have one generated)' });
        else secret = w.secret;
      }
      const maxRetries = intIn(issues, 'webhook.maxRetries', w.maxRetries, 0, 100) ?? WEBHOOK_DEFAULTS.maxRetries;
      const initialBackoffMs = intIn(issues, 'webhook.initialBackoffMs', w.initialBackoffMs, 1, 3_600_000) ?? WEBHOOK_DEFAULTS.initialBackoffMs;
      const maxBackoffMs = intIn(issues, 'webhook.maxBackoffMs', w.maxBackoffMs, 1, 3_600_000) ?? WEBHOOK_DEFAULTS.maxBackoffMs;
      const timeoutMs = intIn(issues, 'webhook.timeoutMs', w.timeoutMs, 1, 300_000) ?? WEBHOOK_DEFAULTS.timeoutMs;
      if (maxBackoffMs < initialBackoffMs) issues.push({ path: 'webhook.maxBackoffMs', message: `must be at least initialBackoffMs (${initialBackoffMs})` });
      webhook = { url, secret, maxRetries, initialBackoffMs, maxBackoffMs, timeoutMs };
    }
  }
  if (issues.length > 0) throw new SubscriptionInvalid(issues);
  return { id, name, match, severities: severities as Severity[], kinds: kinds as AlertKind[], webhook, createdAtMs: now };
}

/** The subscription as listed: the webhook secret is never shown again after creation. */
export function publicView(s: Subscription): Record<string, unknown> {
  return { ...s, webhook: s.webhook ? { ...s.webhook, secret: undefined, secretSet: true } : null };
}

export function subscriptionFilter(s: Pick<Subscription, 'match' | 'severities' | 'kinds'>): EventFilter {
  return { selectors: compileSelectors(s.match), severities: s.severities, kinds: s.kinds };
}
