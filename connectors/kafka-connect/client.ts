/**
 * A small client for the Kafka Connect REST API: create-or-update a connector, read its status,
 * wait until its tasks run, delete it. Uses Node's fetch; every call is bounded in time.
 *
 * Why the retries: a worker that has just started, or is rebalancing (a restart, a new connector),
 * answers 409 ("rebalance in progress") or 503 for a few seconds, and a worker still booting
 * refuses connections. Those are waited out up to a deadline; a 400 (invalid config) is not.
 */
import { ConnectError, InputError, NotFoundError, TimeoutError } from '../../pipelines/core/errors.ts';

export type ConnectState = 'RUNNING' | 'PAUSED' | 'STOPPED' | 'FAILED' | 'UNASSIGNED' | 'RESTARTING';

export interface ConnectorStatus {
  name: string;
  connector: { state: ConnectState; worker_id: string; trace?: string };
  tasks: { id: number; state: ConnectState; worker_id: string; trace?: string }[];
  type?: string;
}

interface Reply {
  status: number;
  body: unknown;
}

const RETRY_STATUSES = new Set([409, 500, 502, 503, 504]);

export class ConnectClient {
  private readonly base: string;

  /**
   * retryForMs bounds the retries of a worker that answers busy (409/5xx); unreachableForMs, of one
   * that does not answer at all (default: retryForMs), so a wrong URL fails fast when asked to.
   */
  constructor(baseUrl: string, private readonly opts: { requestTimeoutMs?: number; retryForMs?: number; unreachableForMs?: number } = {}) {
    this.base = baseUrl.replace(/\/+$/, '');
  }

  private async once(method: string, path: string, body?: unknown): Promise<Reply> {
    const res = await fetch(`${this.base}${path}`, {
      method,
      headers: body === undefined ? { accept: 'application/json' } : { 'content-type': 'application/json', accept: 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(this.opts.requestTimeoutMs ?? 15_000),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      /* keep the text: error pages are not always JSON */
    }
    return { status: res.status, body: parsed };
  }

  /** One call, retried while the worker is unreachable, rebalancing or briefly failing. */
  private async call(method: string, path: string, body?: unknown): Promise<Reply> {
    const started = Date.now();
    const deadline = started + (this.opts.retryForMs ?? 60_000);
    const unreachableDeadline = started + (this.opts.unreachableForMs ?? this.opts.retryForMs ?? 60_000);
    let delay = 200;
    for (;;) {
      let reply: Reply | undefined;
      let failure: unknown;
      try {
        reply = await this.once(method, path, body);
        if (!RETRY_STATUSES.has(reply.status)) return reply;
      } catch (err) {
        failure = err;
      }
      if (Date.now() + delay > (reply ? deadline : unreachableDeadline)) {
        if (reply) return reply;
        throw new ConnectError(`cannot reach Kafka Connect at ${this.base} (${method} ${path}): ${describeFetchFailure(failure)}. Is it running? (bash infra/connect/up.sh starts one on 127.0.0.1:18083)`, { cause: failure });
      }
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 2000);
    }
  }

  private fail(what: string, r: Reply): never {
    const msg = typeof r.body === 'object' && r.body && 'message' in r.body ? String((r.body as { message: unknown }).message) : JSON.stringify(r.body);
    if (r.status === 404) throw new NotFoundError(`${what}: ${msg}`);
    if (r.status >= 400 && r.status < 500) throw new InputError(`${what}: HTTP ${r.status}: ${msg}`);
    throw new ConnectError(`${what}: HTTP ${r.status}: ${msg}`);
  }

  /** Worker version and the Kafka cluster it stores its state in. */
  async info(): Promise<{ version: string; commit: string; kafka_cluster_id: string }> {
    const r = await this.call('GET', '/');
    if (r.status !== 200) this.fail('GET /', r);
    return r.body as { version: string; commit: string; kafka_cluster_id: string };
  }

  /** Creates the connector, or replaces its config (PUT is idempotent). True when it was created. */
  async put(name: string, config: Record<string, string>): Promise<boolean> {
    const r = await this.call('PUT', `/connectors/${encodeURIComponent(name)}/config`, config);
    if (r.status !== 200 && r.status !== 201) this.fail(`deploying connector ${name}`, r);
    return r.status === 201;
  }

  async list(): Promise<string[]> {
    const r = await this.call('GET', '/connectors');
    if (r.status !== 200) this.fail('listing connectors', r);
    return r.body as string[];
  }

  /** The connector's status, or null when it does not exist (or has no status yet). */
  async status(name: string): Promise<ConnectorStatus | null> {
    const r = await this.call('GET', `/connectors/${encodeURIComponent(name)}/status`);
    if (r.status === 404) return null;
    if (r.status !== 200) this.fail(`status of connector ${name}`, r);
    return r.body as ConnectorStatus;
  }

  /** Deletes the connector; true if it existed. */
  async remove(name: string): Promise<boolean> {
    const r = await this.call('DELETE', `/connectors/${encodeURIComponent(name)}`);
    if (r.status === 404) return false;
    if (r.status !== 204 && r.status !== 200) this.fail(`deleting connector ${name}`, r);
    return true;
  }

  /**
   * Waits until the connector and all its tasks (at least one) are RUNNING. A FAILED task ends
   * the wait at once with the first lines of its stack trace (the reason is near the bottom, so
   * the "Caused by" lines are kept).
   */
  async waitRunning(name: string, timeoutMs = 60_000): Promise<ConnectorStatus> {
    const end = Date.now() + timeoutMs;
    let last: ConnectorStatus | null = null;
    for (;;) {
      last = await this.status(name);
      if (last) {
        const failed = [last.connector, ...last.tasks].find((t) => t.state === 'FAILED');
        if (failed) throw new ConnectError(`connector ${name} failed: ${summarizeTrace(failed.trace)}`, { retriable: false });
        if (last.connector.state === 'RUNNING' && last.tasks.length > 0 && last.tasks.every((t) => t.state === 'RUNNING')) return last;
      }
      if (Date.now() > end) {
        throw new TimeoutError(`connector ${name} not running after ${timeoutMs} ms (last status: ${last ? `${last.connector.state}, tasks ${last.tasks.map((t) => t.state).join(',') || 'none'}` : 'none'})`);
      }
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

/** The first line of a Java stack trace and its "Caused by" lines: enough to read the reason. */
export function summarizeTrace(trace: string | undefined): string {
  if (!trace) return 'no trace';
  const lines = trace.split('\n');
  const keep = [lines[0], ...lines.filter((l) => l.startsWith('Caused by:'))];
  return keep.join(' | ').slice(0, 2000);
}

/** fetch's own message is just "fetch failed"; the reason (ECONNREFUSED, ENOTFOUND, a timeout) is in its cause. */
function describeFetchFailure(err: unknown): string {
  const msg = (err as Error)?.message ?? String(err);
  const cause = (err as { cause?: { code?: string; message?: string } })?.cause;
  const why = cause?.code ?? cause?.message;
  return why && !msg.includes(why) ? `${msg} (${why})` : msg;
}
