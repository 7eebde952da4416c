/**
 * Every relative link in the repository's Markdown files resolves: `[text](path)` and
 * `![alt](path)` name a file or folder that exists, and a `#fragment` into a Markdown file names one
 * of its headings (GitHub's slugs) or an explicit `<a id>` anchor. Links in code blocks and inline
 * code are not links; absolute URLs (`https:`, `mailto:`) are not checked.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, lstatSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { ROOT } from '../../helpers/infra.ts';

const SKIP = new Set(['node_modules', '.git', '.cache', '.run']);

function markdownFiles(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    if (SKIP.has(name)) continue;
    const p = join(dir, name);
    const st = lstatSync(p);
    if (st.isSymbolicLink()) continue;
    if (st.isDirectory()) markdownFiles(p, out);
    else if (name.endsWith('.md')) out.push(p);
  }
  return out;
}

/** The text outside fenced code blocks and inline code spans, lines kept. */
function prose(text: string): string[] {
  let fenced = false;
  return text.split('\n').map((line) => {
    if (/^\s*(```|~~~)/.test(line)) {
      fenced = !fenced;
      return '';
    }
    return fenced ? '' : line.replace(/`[^`]*`/g, '``');
  });
}

/** GitHub's heading ids: lower case, punctuation dropped, each space a hyphen, repeats numbered. */
export function anchorsOf(text: string): Set<string> {
  const ids = new Set<string>();
  const seen = new Map<string, number>();
  let fenced = false;
  for (const line of text.split('\n')) {
    if (/^\s*(```|~~~)/.test(line)) fenced = !fenced;
    if (fenced) continue;
    for (const m of line.matchAll(/<a\s+(?:id|name)="([^"]+)"/g)) ids.add(m[1]!);
    const h = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!h) continue;
    const plain = h[1]!.replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1').replace(/<[^>]+>/g, '');
    const base = plain.toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/ /g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    ids.add(n === 0 ? base : `${base}-${n}`);
  }
  return ids;
}

test('GitHub heading slugs as the link check computes them', () => {
  const ids = anchorsOf('# Lab (AIOpsLab)\n## Metrics (names `panoptes_inference_*`)\n## Options\n## Options\n```\n# not a heading\n```\n<a id="cmd-rules-check"></a>\n### How the default was chosen, and what it scores');
  assert.deepEqual([...ids].sort(), ['cmd-rules-check', 'how-the-default-was-chosen-and-what-it-scores', 'lab-aiopslab', 'metrics-names-panoptes_inference_', 'options', 'options-1'].sort());
});

test('every relative link in every Markdown file resolves, fragments included', () => {
  const files = markdownFiles(ROOT);
  assert.ok(files.some((f) => relative(ROOT, f) === 'README.md'), 'the root README is checked');
  const anchors = new Map<string, Set<string>>();
  const anchorsFor = (file: string) => {
    if (!anchors.has(file)) anchors.set(file, anchorsOf(readFileSync(file, 'utf8')));
    return anchors.get(file)!;
  };
  const broken: string[] = [];
  let checked = 0;
  for (const file of files) {
    prose(readFileSync(file, 'utf8')).forEach((line, i) => {
      for (const m of line.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) {
        const url = m[1]!;
        if (/^[a-z][a-z0-9+.-]*:/i.test(url)) continue;
        checked++;
        const [path, fragment] = url.split('#', 2) as [string, string | undefined];
        const target = path === '' ? file : join(dirname(file), decodeURIComponent(path));
        const where = `${relative(ROOT, file)}:${i + 1}: ${url}`;
        if (!existsSync(target)) {
          broken.push(`${where} (no such file)`);
          continue;
        }
        if (fragment && target.endsWith('.md') && !anchorsFor(target).has(fragment)) broken.push(`${where} (no heading or anchor #${fragment})`);
      }
    });
  }
  assert.ok(checked > 50, `links checked: ${checked}`);
  assert.deepEqual(broken, []);
});
