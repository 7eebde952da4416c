/**
 * Tokens of the rule language. `#` starts a comment that runs to the end of the line, so a rule
 * file holding a bare expression can carry notes.
 */
import type { Pos } from './ast.ts';
import { durationUnits } from './ast.ts';
import { RuleSyntaxError } from './diagnostics.ts';

export type TokenKind = 'number' | 'duration' | 'ident' | 'op' | 'eof';

export interface Token {
  kind: TokenKind;
  text: string;
  pos: Pos;
  end: number;
  /** Number value, or milliseconds for durations. */
  value: number;
}

const twoCharOps = new Set(['>=', '<=', '==', '!=']);
const oneCharOps = new Set(['+', '-', '*', '/', '(', ')', ',', '<', '>']);
const unitSize = new Map(durationUnits);

export function describeToken(t: Token): string {
  return t.kind === 'eof' ? 'end of input' : `'${t.text}'`;
}

export function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  let line = 1;
  let lineStart = 0;
  const pos = (offset: number): Pos => ({ line, col: offset - lineStart + 1, offset });
  const isDigit = (c: string) => c >= '0' && c <= '9';
  const isAlpha = (c: string) => (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c === '_';

  while (i < src.length) {
    const c = src[i]!;
    if (c === '\n') {
      i++;
      line++;
      lineStart = i;
      continue;
    }
    if (c === ' ' || c === '\t' || c === '\r') {
      i++;
      continue;
    }
    if (c === '#') {
      while (i < src.length && src[i] !== '\n') i++;
      continue;
    }
    const start = i;
    if (isDigit(c) || (c === '.' && isDigit(src[i + 1] ?? ''))) {
      let ms = 0;
      let isDuration = false;
      let num = 0;
      // A duration is one or more number+unit segments written together: `1h30m`.
      for (;;) {
        const segStart = i;
        while (isDigit(src[i] ?? '')) i++;
        if (src[i] === '.' && isDigit(src[i + 1] ?? '')) {
          i++;
          while (isDigit(src[i] ?? '')) i++;
        }
        if ((src[i] === 'e' || src[i] === 'E') && (isDigit(src[i + 1] ?? '') || ((src[i + 1] === '+' || src[i + 1] === '-') && isDigit(src[i + 2] ?? '')))) {
          i += 2;
          while (isDigit(src[i] ?? '')) i++;
        }
        num = Number(src.slice(segStart, i));
        if (!Number.isFinite(num)) throw new RuleSyntaxError(pos(segStart), `number '${src.slice(segStart, i)}' is outside the range of a 64-bit float (±1.8e308)`);
        if (!isAlpha(src[i] ?? '')) {
          if (isDuration) {
            throw new RuleSyntaxError(pos(segStart), `expected a unit (ms, s, m, h, d or w) after '${src.slice(segStart, i)}' in duration '${src.slice(start, i)}'`);
          }
          break;
        }
        const unitStart = i;
        while (isAlpha(src[i] ?? '') || isDigit(src[i] ?? '')) {
          if (isDigit(src[i]!) && unitSize.has(src.slice(unitStart, i))) break;
          i++;
        }
        const unit = src.slice(unitStart, i);
        const size = unitSize.get(unit);
        if (size === undefined) {
          throw new RuleSyntaxError(pos(unitStart), `unknown duration unit '${unit}' in '${src.slice(start, i)}' (expected ms, s, m, h, d or w)`);
        }
        ms += num * size;
        if (!Number.isFinite(ms)) throw new RuleSyntaxError(pos(start), `duration '${src.slice(start, i)}' is too long to represent`);
        isDuration = true;
        if (!isDigit(src[i] ?? '')) break;
      }
      const text = src.slice(start, i);
      out.push({ kind: isDuration ? 'duration' : 'number', text, pos: pos(start), end: i, value: isDuration ? ms : num });
      continue;
    }
    if (isAlpha(c)) {
      while (isAlpha(src[i] ?? '') || isDigit(src[i] ?? '')) i++;
      out.push({ kind: 'ident', text: src.slice(start, i), pos: pos(start), end: i, value: NaN });
      continue;
    }
    const two = src.slice(i, i + 2);
    if (twoCharOps.has(two)) {
      i += 2;
      out.push({ kind: 'op', text: two, pos: pos(start), end: i, value: NaN });
      continue;
    }
    if (oneCharOps.has(c)) {
      i++;
      out.push({ kind: 'op', text: c, pos: pos(start), end: i, value: NaN });
      continue;
    }
    const hint = c === '=' ? " (use '==' to compare)" : c === '&' ? " (use 'and')" : c === '|' ? " (use 'or')" : c === '!' ? " (use 'not')" : '';
    throw new RuleSyntaxError(pos(start), `unexpected character '${c}'${hint}`);
  }
  out.push({ kind: 'eof', text: '', pos: pos(i), end: i, value: NaN });
  return out;
}

/** `1d`, `90m`, `1h30m` → milliseconds; undefined when the text is not exactly one duration. */
export function parseDuration(text: string): number | undefined {
  try {
    const toks = tokenize(text);
    return toks.length === 2 && toks[0]!.kind === 'duration' ? toks[0]!.value : undefined;
  } catch {
    return undefined;
  }
}
