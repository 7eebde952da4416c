/** Rule files from disk, for every command that takes one (`detect --rules`, `rules publish`, `start`, the lab). */
import { readFile } from 'node:fs/promises';
import { InputError } from '../../core/errors.ts';
import { formatDiagnostic } from './diagnostics.ts';
import type { CheckedRule } from './rule.ts';
import { parseRuleFile } from './rule-file.ts';

/** A file's text; a missing file, a folder or no permission is one InputError naming the path. */
export async function readText(path: string, what: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : code === 'EACCES' ? 'permission denied' : String(code ?? err);
    throw new InputError(`cannot read ${what} ${path}: ${why}`, { cause: err });
  }
}

/** Loads and checks a rule file; throws InputError listing every positioned problem, one per line. */
export async function loadRules(path: string): Promise<CheckedRule[]> {
  const { rules, diagnostics } = parseRuleFile(await readText(path, 'rule file'), path);
  if (diagnostics.length > 0) throw new InputError(`${diagnostics.length} error(s) in ${path}:\n${diagnostics.map((d) => formatDiagnostic(d, path)).join('\n')}`, { details: { diagnostics } });
  return rules;
}
