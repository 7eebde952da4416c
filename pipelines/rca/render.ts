/**
 * Graph export: Graphviz DOT text and a self-contained SVG drawn with a small layered
 * (Sugiyama-style) layout: longest-path layers, a few barycenter sweeps to reduce crossings,
 * straight edges with arrowheads. Edge colour shows provenance, width confidence; unobserved
 * nodes are dashed.
 */
import type { CausalGraphRecord } from '../graph/index.ts';
import { indexGraph } from '../graph/index.ts';
import { breakCycles } from '../graph/index.ts';

const provenanceColour: Record<string, string> = { DOCS: '#1f6feb', DATA: '#d97706', BOTH: '#15803d', FEEDBACK: '#7c3aed' };

function dotId(s: string): string {
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

export function toDot(g: CausalGraphRecord): string {
  const lines = [`digraph ${dotId(g.name)} {`, `  // version ${g.version}, source ${g.source}`, '  rankdir=LR;', '  node [shape=box, fontname="Helvetica", fontsize=10];'];
  for (const n of [...g.nodes].sort((a, b) => a.id.localeCompare(b.id))) {
    lines.push(`  ${dotId(n.id)}${n.observed ? '' : ' [style=dashed, tooltip="unobserved"]'};`);
  }
  for (const e of [...g.edges].sort((a, b) => `${a.from}>${a.to}`.localeCompare(`${b.from}>${b.to}`))) {
    const attrs = [`color=${dotId(provenanceColour[e.provenance] ?? '#000000')}`, `penwidth=${(0.5 + 2 * e.confidence).toFixed(2)}`, `tooltip=${dotId(`${e.provenance} ${e.confidence.toFixed(2)} ${e.reason}`)}`];
    lines.push(`  ${dotId(e.from)} -> ${dotId(e.to)} [${attrs.join(', ')}];`);
  }
  lines.push('}');
  return lines.join('\n') + '\n';
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

export interface Layout {
  layers: string[][];
  pos: Map<string, { x: number; y: number; w: number }>;
  width: number;
  height: number;
}

export function layeredLayout(g: CausalGraphRecord): Layout {
  // Layering needs a DAG: lay out the acyclic part, then draw every edge.
  const { edges } = breakCycles(g);
  const idx = indexGraph({ nodes: g.nodes, edges });
  const layerOf = new Map<string, number>();
  const depth = (id: string): number => {
    const known = layerOf.get(id);
    if (known !== undefined) return known;
    const ps = idx.parents.get(id) ?? [];
    const d = ps.length === 0 ? 0 : 1 + Math.max(...ps.map(depth));
    layerOf.set(id, d);
    return d;
  };
  for (const n of g.nodes) depth(n.id);
  const layers: string[][] = [];
  for (const n of [...g.nodes].sort((a, b) => a.id.localeCompare(b.id))) (layers[layerOf.get(n.id)!] ??= []).push(n.id);
  const order = new Map<string, number>();
  const setOrder = () => layers.forEach((l) => l.forEach((id, i) => order.set(id, i)));
  setOrder();
  for (let sweep = 0; sweep < 4; sweep++) {
    const down = sweep % 2 === 0;
    const seq = down ? layers.slice(1) : layers.slice(0, -1).reverse();
    for (const layer of seq) {
      const bary = new Map<string, number>();
      for (const id of layer) {
        const nb = down ? idx.parents.get(id)! : idx.children.get(id)!;
        bary.set(id, nb.length === 0 ? order.get(id)! : nb.reduce((s, x) => s + order.get(x)!, 0) / nb.length);
      }
      layer.sort((a, b) => bary.get(a)! - bary.get(b)! || a.localeCompare(b));
      setOrder();
    }
  }
  const charW = 6.2;
  const boxH = 22;
  const gapY = 14;
  const gapX = 70;
  const pos = new Map<string, { x: number; y: number; w: number }>();
  let x = 20;
  let height = 0;
  for (const layer of layers) {
    const w = Math.max(...layer.map((id) => id.length * charW + 16));
    layer.forEach((id, i) => pos.set(id, { x, y: 20 + i * (boxH + gapY), w }));
    height = Math.max(height, 20 + layer.length * (boxH + gapY));
    x += w + gapX;
  }
  return { layers, pos, width: x - gapX + 20, height: height + 20 };
}

export function toSvg(g: CausalGraphRecord): string {
  const { pos, width, height } = layeredLayout(g);
  const boxH = 22;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${Math.ceil(width)}" height="${Math.ceil(height + 30)}" viewBox="0 0 ${Math.ceil(width)} ${Math.ceil(height + 30)}" font-family="Helvetica, Arial, sans-serif" font-size="10">`,
    `<title>${esc(`${g.name} ${g.version}`)}</title>`,
    '<defs>',
    ...Object.entries(provenanceColour).map(
      ([k, c]) => `<marker id="arrow-${k}" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="${c}"/></marker>`,
    ),
    '</defs>',
    `<text x="20" y="${Math.ceil(height + 20)}" fill="#555">${esc(`${g.name} · version ${g.version} · ${g.nodes.length} nodes, ${g.edges.length} edges · blue docs, orange data, green both, dashed unobserved`)}</text>`,
  ];
  for (const e of g.edges) {
    const a = pos.get(e.from);
    const b = pos.get(e.to);
    if (!a || !b) continue;
    const forward = b.x > a.x;
    const x1 = forward ? a.x + a.w : a.x;
    const x2 = forward ? b.x : b.x + b.w;
    const y1 = a.y + boxH / 2;
    const y2 = b.y + boxH / 2;
    const c = provenanceColour[e.provenance] ?? '#000';
    out.push(
      `<line x1="${x1.toFixed(1)}" y1="${y1.toFixed(1)}" x2="${x2.toFixed(1)}" y2="${y2.toFixed(1)}" stroke="${c}" stroke-width="${(0.5 + 1.5 * e.confidence).toFixed(2)}" marker-end="url(#arrow-${e.provenance})"><title>${esc(`${e.from} → ${e.to} (${e.provenance}, ${e.confidence.toFixed(2)}) ${e.reason}`)}</title></line>`,
    );
  }
  for (const n of g.nodes) {
    const p = pos.get(n.id)!;
    out.push(
      `<g><rect x="${p.x.toFixed(1)}" y="${p.y.toFixed(1)}" width="${p.w.toFixed(1)}" height="${boxH}" rx="4" fill="#f8fafc" stroke="#334155"${n.observed ? '' : ' stroke-dasharray="4 3"'}/><text x="${(p.x + 8).toFixed(1)}" y="${(p.y + 15).toFixed(1)}" fill="#0f172a">${esc(n.id)}</text></g>`,
    );
  }
  out.push('</svg>');
  return out.join('\n') + '\n';
}
