/**
 * Versioned prompt templates: `prompts/<name>.v<N>.md`. A prompt change is a new file, never an
 * edit, so every recorded call (and every rule it produced) can name the exact text it came from.
 *
 * A file is Markdown with `{{var}}` placeholders. `<!-- role: system -->` / `<!-- role: user -->`
 * lines split it into messages (without markers the whole file is one user message); any other
 * HTML comment is a note for maintainers and is dropped.
 */

import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InputError, NotFoundError } from '../core/errors.ts';
import type { ChatMessage, PromptRef, Role } from './types.ts';

export const PROMPTS_DIR = join(dirname(fileURLToPath(import.meta.url)), 'prompts');

export interface PromptTemplate extends PromptRef {
  sections: { role: Role; text: string }[];
}

export type PromptVars = Record<string, string | number | boolean | object>;

const FILE_RE = /^(.+)\.v(\d+)\.md$/;
const VAR_RE = /\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g;
const COMMENT_RE = /<!--([\s\S]*?)-->/g;

/** Versions present for a template name, ascending. */
export function promptVersions(name: string, dir = PROMPTS_DIR): number[] {
  return readdirSync(dir)
    .map((f) => FILE_RE.exec(f))
    .filter((m): m is RegExpExecArray => m !== null && m[1] === name)
    .map((m) => Number(m[2]))
    .sort((a, b) => a - b);
}

/** Loads `<name>.v<version>.md`; without a version, the highest one present. */
export function loadPrompt(name: string, version?: number, dir = PROMPTS_DIR): PromptTemplate {
  const versions = promptVersions(name, dir);
  const v = version ?? versions.at(-1);
  if (v === undefined || !versions.includes(v)) {
    throw new NotFoundError(
      `prompt template '${name}'${version !== undefined ? ` version ${version}` : ''} not found in ${dir}` +
        (versions.length > 0 ? ` (versions present: ${versions.join(', ')})` : ''),
    );
  }
  return parsePrompt(name, v, readFileSync(join(dir, `${name}.v${v}.md`), 'utf8'));
}

export function parsePrompt(name: string, version: number, source: string): PromptTemplate {
  const sections: { role: Role; text: string }[] = [];
  let role: Role = 'user';
  let buf = '';
  let last = 0;
  const flush = () => {
    const text = buf.replace(COMMENT_RE, '').trim();
    if (text !== '') sections.push({ role, text });
    buf = '';
  };
  const marker = /<!--\s*role:\s*(\w+)\s*-->/g;
  for (let m = marker.exec(source); m !== null; m = marker.exec(source)) {
    buf += source.slice(last, m.index);
    flush();
    const r = m[1];
    if (r !== 'system' && r !== 'user' && r !== 'assistant') {
      throw new InputError(`prompt ${name}.v${version}: unknown role '${r}' (expected system, user or assistant)`);
    }
    role = r;
    last = m.index + m[0].length;
  }
  buf += source.slice(last);
  flush();
  return { name, version, sections };
}

/** `{{var}}` substitution; every missing variable is named in one error. */
export function substitute(text: string, vars: PromptVars, where = 'template'): string {
  const missing = new Set<string>();
  const out = text.replace(VAR_RE, (_all, key: string) => {
    if (!Object.hasOwn(vars, key) || vars[key] === undefined || vars[key] === null) {
      missing.add(key);
      return '';
    }
    const v = vars[key];
    return typeof v === 'object' ? JSON.stringify(v, null, 2) : String(v);
  });
  if (missing.size > 0) {
    throw new InputError(`${where}: missing variable(s) ${[...missing].map((k) => `{{${k}}}`).join(', ')}`, {
      details: { missing: [...missing] },
    });
  }
  return out;
}

export function renderPrompt(tpl: PromptTemplate, vars: PromptVars): ChatMessage[] {
  const where = `prompt ${tpl.name}.v${tpl.version}`;
  return tpl.sections.map((s) => ({ role: s.role, content: substitute(s.text, vars, where) }));
}

/** Convenience: load, render, and return the ref to pass as `ChatOptions.prompt`. */
export function prompt(name: string, vars: PromptVars, version?: number, dir = PROMPTS_DIR): { messages: ChatMessage[]; ref: PromptRef } {
  const tpl = loadPrompt(name, version, dir);
  return { messages: renderPrompt(tpl, vars), ref: { name: tpl.name, version: tpl.version } };
}
