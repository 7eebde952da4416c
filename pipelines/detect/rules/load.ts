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

/**
 * Loads and checks a rule file. On problems, one InputError of one line: the first positioned
 * problem and how many more there are (`panoptes rules check FILE` lists every one); all of them
 * are in `details.diagnostics`.
 */
export async function loadRules(path: string): Promise<CheckedRule[]> {
  const { rules, diagnostics } = parseRuleFile(await readText(path, 'rule file'), path);
  const [first] = diagnostics;
  if (first !== undefined) {
    const more = diagnostics.length - 1;
    throw new InputError(`${formatDiagnostic(first, path)}${more > 0 ? ` (and ${more} more; panoptes rules check ${path} lists every one)` : ''}`, { details: { diagnostics } });
  }
  return rules;
}
