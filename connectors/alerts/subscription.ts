/**
 * Subscriptions: what a user asked for (selectors, severities, kinds) and, optionally, where to
 * send it (a webhook). The request body is checked against one JSON Schema (SUBSCRIPTION_BODY,
 * also the fastify route's body schema), then for what a schema cannot say (selectors that parse
 * and compile under RE2, backoff bounds in order). Every problem is reported with its JSON path,
 * so the HTTP API answers one 400 naming all of them.
 *
 * The webhook secret never lands on the subscription topic in clear: it is sealed with the
 * server's master secret (secrets.ts) and the clear value is handed back once, at creation.
 */
import { randomBytes } from 'node:crypto';
import { Ajv, type ErrorObject } from 'ajv';
import type { ConfigIssue } from '../../pipelines/core/errors.ts';
import { InputError } from '../../pipelines/core/errors.ts';
import type { Severity } from '../../pipelines/core/records.ts';
import { ALERT_KINDS, SEVERITIES, type AlertKind, type EventFilter } from './events.ts';
import { compileSelectors, newBudget, type RegexBudget, type Selector } from './matchers.ts';
import type { WebhookKeyring } from './secrets.ts';

export interface WebhookTarget {
  url: string;
  /** The HMAC-SHA256 key, sealed (secrets.ts). */
  sealedSecret?: string;
  /** Records written before secrets were sealed carry it in clear; read, never written. */
  secret?: string;
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

/** Selectors per subscription or stream query, and the length of one. */
export const MAX_SELECTORS = 64;
export const MAX_SELECTOR_CHARS = 4096;

const KEYS = ['name', 'match', 'severities', 'kinds', 'webhook'];
const WEBHOOK_KEYS = ['url', 'secret', 'maxRetries', 'initialBackoffMs', 'maxBackoffMs', 'timeoutMs'];

const int = (minimum: number, maximum: number) => ({ type: 'integer', minimum, maximum });

/** The JSON Schema of `POST /v1/subscriptions`. */
export const SUBSCRIPTION_BODY = {
  type: 'object',
  additionalProperties: false,
  properties: {
    name: { type: 'string', maxLength: 200 },
    match: { type: 'array', maxItems: MAX_SELECTORS, items: { type: 'string', maxLength: MAX_SELECTOR_CHARS } },
    severities: { type: 'array', maxItems: 10, items: { type: 'string', enum: [...SEVERITIES] } },
    kinds: { type: 'array', maxItems: 10, items: { type: 'string', enum: [...ALERT_KINDS] } },
    webhook: {
      type: ['object', 'null'],
      additionalProperties: false,
      required: ['url'],
      properties: {
        url: { type: 'string', minLength: 1, maxLength: 2048 },
        secret: { type: 'string', minLength: 16, maxLength: 512 },
        maxRetries: int(0, 100),
        initialBackoffMs: int(1, 3_600_000),
        maxBackoffMs: int(1, 3_600_000),
        timeoutMs: int(1, 300_000),
      },
    },
  },
} as const;

const ajv = new Ajv({ allErrors: true, strict: false });
const validateBody = ajv.compile(SUBSCRIPTION_BODY);

/** A request that names its problems: a 400 with every issue. */
export class SubscriptionInvalid extends InputError {
  constructor(readonly issues: ConfigIssue[]) {
    super(issues.map((i) => `${i.path}: ${i.message}`).join('; '), { details: { issues } });
  }
}

function show(v: unknown): string {
  const s = JSON.stringify(v);
  return s === undefined ? String(v) : s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

/** `/webhook/url` → `webhook.url`, `/match/0` → `match[0]`. */
function jsonPath(pointer: string): string {
  let out = '';
  for (const raw of pointer.split('/').slice(1)) {
    const seg = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    out += /^\d+$/.test(seg) ? `[${seg}]` : out ? `.${seg}` : seg;
  }
  return out;
}

function valueAt(body: unknown, pointer: string): unknown {
  let cur = body;
  for (const raw of pointer.split('/').slice(1)) {
    if (typeof cur !== 'object' || cur === null) return undefined;
    cur = (cur as Record<string, unknown>)[raw.replace(/~1/g, '/').replace(/~0/g, '~')];
  }
  return cur;
}

/** Schema errors (ajv's, from fastify or our own run) as issues in the API's words, one per path. */
export function schemaIssues(body: unknown, errors: readonly ErrorObject[]): ConfigIssue[] {
  const out: ConfigIssue[] = [];
  const seen = new Set<string>();
  const push = (path: string, message: string) => {
    if (seen.has(path)) return;
    seen.add(path);
    out.push({ path: path || '(body)', message });
  };
  for (const e of errors) {
    const at = jsonPath(e.instancePath);
    const v = valueAt(body, e.instancePath);
    const p = e.params as Record<string, unknown>;
    switch (e.keyword) {
      case 'additionalProperties': {
        const extra = String(p.additionalProperty);
        push(at ? `${at}.${extra}` : extra, `unknown field (known: ${(at === 'webhook' ? WEBHOOK_KEYS : KEYS).join(', ')})`);
        break;
      }
      case 'required':
        push(at ? `${at}.${String(p.missingProperty)}` : String(p.missingProperty), at === 'webhook' ? 'required: an http:// or https:// URL' : 'required');
        break;
      case 'enum':
        push(at, `expected one of ${(p.allowedValues as unknown[]).join(', ')}, got ${show(v)}`);
        break;
      case 'minimum':
      case 'maximum': {
        const field = at.startsWith('webhook.') ? (SUBSCRIPTION_BODY.properties.webhook.properties as Record<string, { minimum?: number; maximum?: number }>)[at.slice(8)] : undefined;
        push(at, field ? `expected an integer from ${field.minimum} to ${field.maximum}, got ${show(v)}` : (e.message ?? 'out of range'));
        break;
      }
      case 'type': {
        const t = Array.isArray(p.type) ? (p.type as string[]).join(' or ') : String(p.type);
        const words: Record<string, string> = { array: 'an array of strings', object: 'a JSON object', 'object or null': 'an object with at least "url"', integer: 'an integer', string: 'a string' };
        push(at, `expected ${words[t] ?? t}, got ${show(v)}`);
        break;
      }
      case 'maxItems':
        push(at, `at most ${String(p.limit)} items, got ${Array.isArray(v) ? v.length : show(v)}`);
        break;
      case 'maxLength':
        push(at, `at most ${String(p.limit)} characters, got ${typeof v === 'string' ? v.length : show(v)}`);
        break;
      case 'minLength':
        push(at, at === 'webhook.secret' ? 'expected a string of at least 16 characters (omit it to have one generated)' : `at least ${String(p.limit)} characters`);
        break;
      default:
        push(at, e.message ?? 'invalid');
    }
  }
  return out;
}

/**
 * Checks selectors, severities and kinds (shared by subscriptions and ad-hoc SSE queries) and
 * returns the compiled selectors; every regex of the request draws from one budget.
 */
export function validateFilter(issues: ConfigIssue[], paths: { match: string; severities: string; kinds: string }, match: string[], severities: string[], kinds: string[], budget: RegexBudget = newBudget()): Selector[] {
  const selectors: Selector[] = [];
  if (match.length > MAX_SELECTORS) issues.push({ path: paths.match, message: `at most ${MAX_SELECTORS} selectors, got ${match.length}` });
  match.slice(0, MAX_SELECTORS).forEach((m, i) => {
    if (m.length > MAX_SELECTOR_CHARS) {
      issues.push({ path: `${paths.match}[${i}]`, message: `at most ${MAX_SELECTOR_CHARS} characters, got ${m.length}` });
      return;
    }
    try {
      selectors.push(...compileSelectors([m], budget));
    } catch (err) {
      issues.push({ path: `${paths.match}[${i}]`, message: (err as Error).message });
    }
  });
  severities.forEach((s, i) => {
    if (!SEVERITIES.includes(s as Severity)) issues.push({ path: `${paths.severities}[${i}]`, message: `expected one of ${SEVERITIES.join(', ')}, got ${show(s)}` });
  });
  kinds.forEach((k, i) => {
    if (!ALERT_KINDS.includes(k as AlertKind)) issues.push({ path: `${paths.kinds}[${i}]`, message: `expected one of ${ALERT_KINDS.join(', ')}, got ${show(k)}` });
  });
  return selectors;
}

export interface CreateOptions {
  /** Seals the webhook secret; without one, webhook subscriptions are refused. */
  keyring: WebhookKeyring | null;
  id?: string;
  /** ajv errors the HTTP layer already found (fastify's body schema); without them the schema runs here. */
  schemaErrors?: readonly ErrorObject[];
}

/** A validated subscription and, for a webhook, its secret in clear (to show once). */
export interface Created {
  sub: Subscription;
  secret: string | null;
}

/** Validates a create request's JSON body; throws SubscriptionInvalid listing every problem. */
export function subscriptionFromRequest(body: unknown, now: number, o: CreateOptions): Created {
  const id = o.id ?? `sub_${randomBytes(8).toString('hex')}`;
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new SubscriptionInvalid([{ path: '(body)', message: `expected a JSON object, got ${show(body)}` }]);
  const errors = o.schemaErrors ?? (validateBody(body) ? [] : (validateBody.errors ?? []));
  const issues = schemaIssues(body, errors);
  const bad = new Set(issues.map((i) => i.path));
  const ok = (path: string) => ![...bad].some((p) => p === path || p.startsWith(`${path}[`) || p.startsWith(`${path}.`));
  const b = body as Record<string, unknown>;
  const strings = (k: string): string[] => (ok(k) && Array.isArray(b[k]) ? (b[k] as string[]) : []);
  validateFilter(issues, { match: 'match', severities: 'severities', kinds: 'kinds' }, strings('match'), strings('severities'), strings('kinds'));
  let webhook: WebhookTarget | null = null;
  let secret: string | null = null;
  const w = b.webhook as Record<string, unknown> | null | undefined;
  if (typeof w === 'object' && w !== null && !Array.isArray(w)) {
    const url = typeof w.url === 'string' ? w.url : '';
    if (url && ok('webhook.url')) {
      try {
        const u = new URL(url);
        if (u.protocol !== 'http:' && u.protocol !== 'https:') issues.push({ path: 'webhook.url', message: `expected http or https, got ${u.protocol}` });
        else if (u.username || u.password) issues.push({ path: 'webhook.url', message: 'credentials in the URL are not allowed (deliveries are signed with the secret)' });
      } catch {
        issues.push({ path: 'webhook.url', message: `not a URL: ${show(url)}` });
      }
    }
    const initialBackoffMs = ok('webhook.initialBackoffMs') ? ((w.initialBackoffMs as number | undefined) ?? WEBHOOK_DEFAULTS.initialBackoffMs) : 0;
    const maxBackoffMs = ok('webhook.maxBackoffMs') ? ((w.maxBackoffMs as number | undefined) ?? WEBHOOK_DEFAULTS.maxBackoffMs) : Infinity;
    if (maxBackoffMs < initialBackoffMs) issues.push({ path: 'webhook.maxBackoffMs', message: `must be at least initialBackoffMs (${initialBackoffMs})` });
    if (!o.keyring) issues.push({ path: 'webhook', message: 'this server was started without --webhook-secret-file, which seals webhook secrets at rest: webhook subscriptions are off' });
    if (issues.length === 0 && o.keyring) {
      secret = (w.secret as string | undefined) ?? randomBytes(32).toString('base64url');
      webhook = {
        url,
        sealedSecret: o.keyring.seal(secret, id),
        maxRetries: (w.maxRetries as number | undefined) ?? WEBHOOK_DEFAULTS.maxRetries,
        initialBackoffMs,
        maxBackoffMs,
        timeoutMs: (w.timeoutMs as number | undefined) ?? WEBHOOK_DEFAULTS.timeoutMs,
      };
    }
  }
  if (issues.length > 0) throw new SubscriptionInvalid(issues);
  return {
    sub: { id, name: (b.name as string | undefined) ?? '', match: (b.match as string[] | undefined) ?? [], severities: (b.severities as Severity[] | undefined) ?? [], kinds: (b.kinds as AlertKind[] | undefined) ?? [], webhook, createdAtMs: now },
    secret,
  };
}

/** The subscription as listed: no secret, sealed or not; `secretSet` stands in for it. */
export function publicView(s: Subscription): Record<string, unknown> {
  if (!s.webhook) return { ...s };
  const { sealedSecret: _sealed, secret: _clear, ...rest } = s.webhook;
  return { ...s, webhook: { ...rest, secretSet: true } };
}

export function subscriptionFilter(s: Pick<Subscription, 'match' | 'severities' | 'kinds'>): EventFilter {
  return { selectors: compileSelectors(s.match), severities: s.severities, kinds: s.kinds };
}
