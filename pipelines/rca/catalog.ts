/**
 * The service catalog: one Markdown page per component, the documentation the Atlas agents read.
 *
 *   # <component name, exactly as telemetry names it>
 *   - kind: service | resource | request
 *   - type: ecs-service, dynamodb-table, load-balancer, ...   (agents with the same type share answers)
 *   Free text: what it is.
 *   ## Calls        - <component> — why          (this component sends requests to those)
 *   ## Fronts       - <component> — why          (this is the caller-side endpoint of that component)
 *   ## Stores       - what it keeps               (informational)
 *   ## Metrics      - <metric> — meaning          (typical metrics; telemetry decides which are observed)
 *
 * Parsing is strict about structure and names what it cannot read (file and line).
 */
import { InputError } from '../core/errors.ts';

export type ComponentKind = 'service' | 'resource' | 'request';
export const componentKinds: readonly ComponentKind[] = ['service', 'resource', 'request'];

export interface Relation {
  target: string;
  why: string;
}

export interface CatalogPage {
  component: string;
  kind: ComponentKind;
  type: string;
  description: string;
  calls: Relation[];
  fronts: Relation[];
  stores: string[];
  metrics: Relation[];
  source: string;
}

const sections = new Set(['calls', 'fronts', 'stores', 'metrics']);

function bullet(line: string): string | null {
  const m = /^\s*[-*]\s+(.*)$/.exec(line);
  return m ? m[1]!.trim() : null;
}

/** `name — why`, `name - why` or `name: why`; backticks around the name are dropped. */
function relation(text: string): Relation {
  const m = /^`?([^`]+?)`?\s+(?:—|–|-{1,2})\s+(.*)$/.exec(text);
  if (m) return { target: m[1]!.trim(), why: m[2]!.trim() };
  return { target: text.replace(/`/g, '').trim(), why: '' };
}

export function parseCatalogPage(text: string, source = 'page'): CatalogPage {
  const lines = text.split(/\r?\n/);
  let component = '';
  let kind: ComponentKind | '' = '';
  let type = '';
  const desc: string[] = [];
  const rel: Record<string, Relation[]> = { calls: [], fronts: [], metrics: [] };
  const stores: string[] = [];
  let section = '';
  lines.forEach((line, i) => {
    const where = `${source}:${i + 1}`;
    const h1 = /^#\s+(.+)$/.exec(line);
    if (h1) {
      if (component) throw new InputError(`${where}: a page describes one component; second title "${h1[1]}"`);
      component = h1[1]!.replace(/`/g, '').trim();
      return;
    }
    const h2 = /^##\s+(.+)$/.exec(line);
    if (h2) {
      section = h2[1]!.trim().toLowerCase();
      if (!sections.has(section)) section = `other:${section}`;
      return;
    }
    const b = bullet(line);
    if (section === '') {
      const kv = b ? /^(kind|type):\s*(.+)$/i.exec(b) : null;
      if (kv) {
        const k = kv[1]!.toLowerCase();
        const v = kv[2]!.trim();
        if (k === 'kind') {
          if (!componentKinds.includes(v as ComponentKind)) throw new InputError(`${where}: kind "${v}" is not one of ${componentKinds.join(', ')}`);
          kind = v as ComponentKind;
        } else type = v;
      } else if (line.trim()) desc.push(line.trim());
      return;
    }
    if (!b) return;
    if (section === 'stores') stores.push(b);
    else if (section in rel) {
      const r = relation(b);
      if (r.target.toLowerCase() === '(none)' || r.target.toLowerCase() === 'none') return;
      rel[section]!.push(r);
    }
  });
  if (!component) throw new InputError(`${source}: no "# <component>" title`);
  if (!kind) throw new InputError(`${source}: no "- kind: service|resource|request" line under the title`);
  return { component, kind, type: type || kind, description: desc.join(' '), calls: rel.calls!, fronts: rel.fronts!, stores, metrics: rel.metrics!, source };
}

/** A file may hold several pages, each starting at a `# ` title. */
export function parseCatalogFile(text: string, source = 'file'): CatalogPage[] {
  const lines = text.split(/\r?\n/);
  const starts: number[] = [];
  lines.forEach((l, i) => {
    if (/^#\s+/.test(l)) starts.push(i);
  });
  if (starts.length === 0) throw new InputError(`${source}: no "# <component>" title`);
  return starts.map((s, k) => {
    const chunk = lines.slice(s, starts[k + 1] ?? lines.length);
    // Keep line numbers right in messages by padding with the lines before the title.
    return parseCatalogPage([...new Array<string>(s).fill(''), ...chunk].join('\n'), source);
  });
}

export interface Catalog {
  pages: Map<string, CatalogPage>;
  /** Relations naming components that have no page. */
  dangling: string[];
}

export function buildCatalog(pages: CatalogPage[]): Catalog {
  const map = new Map<string, CatalogPage>();
  for (const p of pages) {
    if (map.has(p.component)) throw new InputError(`component ${p.component} is described twice (${map.get(p.component)!.source}, ${p.source})`);
    map.set(p.component, p);
  }
  const dangling: string[] = [];
  for (const p of pages) for (const r of [...p.calls, ...p.fronts]) if (!map.has(r.target)) dangling.push(`${p.component} -> ${r.target}`);
  return { pages: map, dangling };
}
