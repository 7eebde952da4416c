/**
 * Getting JSON out of free text, for endpoints that cannot enforce a schema: models wrap answers
 * in prose or ```json fences. We take the first fenced json block, else the first balanced
 * top-level object (or array) that parses.
 */

export type Extracted = { ok: true; value: unknown } | { ok: false; problem: string };

const FENCE_RE = /```(?:json|JSON)?[ \t]*\r?\n([\s\S]*?)```/g;

export function extractJson(text: string): Extracted {
  const trimmed = text.trim();
  const direct = tryParse(trimmed);
  if (direct.ok) return direct;
  let fenceProblem: string | undefined;
  for (const m of text.matchAll(FENCE_RE)) {
    const r = tryParse(m[1]!.trim());
    if (r.ok) return r;
    fenceProblem ??= `fenced block is not valid JSON: ${r.problem}`;
  }
  for (let start = firstOpen(text, 0); start >= 0; start = firstOpen(text, start + 1)) {
    const end = balancedEnd(text, start);
    if (end < 0) continue;
    const r = tryParse(text.slice(start, end + 1));
    if (r.ok) return r;
  }
  return { ok: false, problem: fenceProblem ?? 'no JSON object found in the answer' };
}

function tryParse(s: string): Extracted {
  try {
    return { ok: true, value: JSON.parse(s) };
  } catch (e) {
    return { ok: false, problem: (e as Error).message };
  }
}

function firstOpen(text: string, from: number): number {
  for (let i = from; i < text.length; i++) if (text[i] === '{' || text[i] === '[') return i;
  return -1;
}

/** Index of the bracket closing the one at `start`, skipping strings; -1 when unbalanced. */
function balancedEnd(text: string, start: number): number {
  const stack: string[] = [];
  let inString = false;
  for (let i = start; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') inString = true;
    else if (c === '{') stack.push('}');
    else if (c === '[') stack.push(']');
    else if (c === '}' || c === ']') {
      if (stack.pop() !== c) return -1;
      if (stack.length === 0) return i;
    }
  }
  return -1;
}
