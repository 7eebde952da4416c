/**
 * LLM configuration from the environment, validated up front so a typo fails at start with the
 * key's name rather than as a 404 from the endpoint an hour into a training run.
 */

import { ConfigError } from '../core/errors.ts';
import type { ConfigIssue } from '../core/errors.ts';

/** USD (or any currency, consistently) per million tokens. */
export interface ModelPrice {
  prompt: number;
  completion: number;
}

export interface BudgetLimits {
  maxTokens?: number;
  maxCost?: number;
  prices: Record<string, ModelPrice>;
}

export interface LlmConfig {
  provider: 'openai' | 'offline';
  baseURL?: string;
  apiKey?: string;
  defaultModel?: string;
  /** Per-agent models keyed by normalized agent name (see `agentEnvSuffix`). */
  agentModels: Record<string, string>;
  timeoutMs: number;
  maxRetries: number;
  budget: BudgetLimits;
}

const MODEL_PREFIX = 'PANOPTES_LLM_MODEL_';

/** `argos-detection` → `ARGOS_DETECTION`, the suffix of its PANOPTES_LLM_MODEL_* key. */
export function agentEnvSuffix(agent: string): string {
  return agent.toUpperCase().replace(/[^A-Z0-9]+/g, '_');
}

export function loadLlmConfig(env: NodeJS.ProcessEnv = process.env, overrides: Partial<LlmConfig> = {}): LlmConfig {
  const issues: ConfigIssue[] = [];
  const str = (k: string): string | undefined => {
    const v = env[k];
    return v === undefined || v.trim() === '' ? undefined : v.trim();
  };
  const num = (k: string, opts: { integer?: boolean; min: number }): number | undefined => {
    const raw = str(k);
    if (raw === undefined) return undefined;
    const n = Number(raw);
    if (!Number.isFinite(n) || n < opts.min || (opts.integer && !Number.isInteger(n))) {
      issues.push({ path: k, message: `expected ${opts.integer ? 'an integer' : 'a number'} >= ${opts.min}, got '${raw}'` });
      return undefined;
    }
    return n;
  };

  const apiKey = str('OPENAI_API_KEY');
  const providerRaw = str('PANOPTES_LLM_PROVIDER');
  let provider: LlmConfig['provider'] = apiKey ? 'openai' : 'offline';
  if (providerRaw !== undefined) {
    if (providerRaw === 'openai' || providerRaw === 'offline') provider = providerRaw;
    else issues.push({ path: 'PANOPTES_LLM_PROVIDER', message: `expected 'openai' or 'offline', got '${providerRaw}'` });
  }

  const baseURL = str('OPENAI_BASE_URL');
  if (baseURL !== undefined) {
    let ok = false;
    try {
      const u = new URL(baseURL);
      ok = u.protocol === 'http:' || u.protocol === 'https:';
    } catch {
      ok = false;
    }
    if (!ok) issues.push({ path: 'OPENAI_BASE_URL', message: `expected an http(s) URL such as http://127.0.0.1:8080/v1, got '${baseURL}'` });
  }

  const agentModels: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) {
    if (k.startsWith(MODEL_PREFIX) && v !== undefined && v.trim() !== '') agentModels[k.slice(MODEL_PREFIX.length)] = v.trim();
  }

  let prices: Record<string, ModelPrice> = {};
  const pricesRaw = str('PANOPTES_LLM_PRICES');
  if (pricesRaw !== undefined) {
    const parsed = parsePrices(pricesRaw);
    if (typeof parsed === 'string') issues.push({ path: 'PANOPTES_LLM_PRICES', message: parsed });
    else prices = parsed;
  }

  const cfg: LlmConfig = {
    provider,
    ...(baseURL !== undefined ? { baseURL } : {}),
    ...(apiKey !== undefined ? { apiKey } : {}),
    ...(str('PANOPTES_LLM_MODEL') !== undefined ? { defaultModel: str('PANOPTES_LLM_MODEL') } : {}),
    agentModels,
    timeoutMs: num('PANOPTES_LLM_TIMEOUT_MS', { integer: true, min: 1 }) ?? 60_000,
    maxRetries: num('PANOPTES_LLM_MAX_RETRIES', { integer: true, min: 0 }) ?? 5,
    budget: {
      ...optional('maxTokens', num('PANOPTES_LLM_MAX_TOKENS', { integer: true, min: 1 })),
      ...optional('maxCost', num('PANOPTES_LLM_MAX_COST', { min: 0 })),
      prices,
    },
    ...overrides,
  };
  issues.push(...checkConfig(cfg));
  if (issues.length > 0) throw new ConfigError(issues);
  return cfg;
}

function optional<K extends string, V>(k: K, v: V | undefined): { [P in K]?: V } {
  return (v === undefined ? {} : { [k]: v }) as { [P in K]?: V };
}

/** Checks that hold however the config was built (env or code). */
export function checkConfig(cfg: LlmConfig): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  if (cfg.provider === 'openai') {
    if (!cfg.apiKey) {
      issues.push({ path: 'OPENAI_API_KEY', message: 'required with the openai provider (local endpoints that ignore it accept any non-empty value)' });
    }
    if (!cfg.defaultModel && Object.keys(cfg.agentModels).length === 0) {
      issues.push({ path: 'PANOPTES_LLM_MODEL', message: 'required with the openai provider (or PANOPTES_LLM_MODEL_<AGENT> for every agent)' });
    }
  }
  if (!(Number.isInteger(cfg.timeoutMs) && cfg.timeoutMs > 0)) issues.push({ path: 'PANOPTES_LLM_TIMEOUT_MS', message: `expected an integer >= 1, got ${cfg.timeoutMs}` });
  if (!(Number.isInteger(cfg.maxRetries) && cfg.maxRetries >= 0)) issues.push({ path: 'PANOPTES_LLM_MAX_RETRIES', message: `expected an integer >= 0, got ${cfg.maxRetries}` });
  if (cfg.budget.maxCost !== undefined) {
    const priced = Object.keys(cfg.budget.prices);
    const used = [cfg.defaultModel, ...Object.values(cfg.agentModels)].filter((m): m is string => m !== undefined);
    const missing = [...new Set(used.filter((m) => !priced.includes(m)))];
    if (cfg.provider === 'openai' && missing.length > 0) {
      issues.push({ path: 'PANOPTES_LLM_PRICES', message: `PANOPTES_LLM_MAX_COST is set but these models have no price: ${missing.join(', ')}` });
    }
  }
  return issues;
}

/** The model an agent uses: its own PANOPTES_LLM_MODEL_<AGENT>, else PANOPTES_LLM_MODEL. */
export function modelFor(cfg: LlmConfig, agent: string): string {
  const m = cfg.agentModels[agentEnvSuffix(agent)] ?? cfg.defaultModel;
  if (m === undefined) {
    throw new ConfigError([{ path: `${MODEL_PREFIX}${agentEnvSuffix(agent)}`, message: `no model for agent '${agent}': set it or PANOPTES_LLM_MODEL` }]);
  }
  return m;
}

/** `{"model": {"prompt": 0.15, "completion": 0.6}}`, prices per million tokens. */
export function parsePrices(raw: string): Record<string, ModelPrice> | string {
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch (e) {
    return `expected JSON like {"model":{"prompt":0.15,"completion":0.6}} (per million tokens): ${(e as Error).message}`;
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return 'expected a JSON object keyed by model name';
  const out: Record<string, ModelPrice> = {};
  for (const [model, p] of Object.entries(v as Record<string, unknown>)) {
    const pr = p as Partial<Record<'prompt' | 'completion', unknown>> | null;
    const ok = (x: unknown) => typeof x === 'number' && Number.isFinite(x) && x >= 0;
    if (typeof pr !== 'object' || pr === null || !ok(pr.prompt) || !ok(pr.completion)) {
      return `model '${model}': expected {"prompt": number >= 0, "completion": number >= 0}`;
    }
    out[model] = { prompt: pr.prompt as number, completion: pr.completion as number };
  }
  return out;
}
