// The tenant's entities and relations as a graph: one node per entity, one
// edge per relation field (many_to_one, one_to_one, many_to_many; a
// one_to_many is the mirror of the target's many_to_one and draws nothing
// new). Laid out left to right by dagre; positions the user dragged are kept
// per tenant in localStorage and win over the layout.
import { Graph, layout } from '@dagrejs/dagre';
import type { Edge, Node } from '@xyflow/react';
import type { EntityDef } from '../api/types';
import { storageKey } from '../session/session';

export const NODE_W = 190;
export const NODE_H = 56;

export interface EntityNodeData extends Record<string, unknown> {
  name: string;
  label: string;
  fields: number;
  relations: number;
}

export type Positions = Record<string, { x: number; y: number }>;

/** Edge labels (field name and kind) are drawn up to this many relations:
 * each label is measured by the browser, and on 400 relations they were
 * a large part of the diagram's first drawing. Beyond it, the field and
 * kind are in each edge's accessible name and in the entity's editor. */
export const LABELLED_EDGES = 80;

export function edgesOf(entities: EntityDef[]): Edge[] {
  const names = new Set(entities.map((e) => e.name));
  const out: Edge[] = [];
  for (const e of entities) {
    for (const f of e.fields) {
      if (f.type !== 'relation' || !f.target || f.kind === 'one_to_many' || !names.has(f.target)) continue;
      out.push({
        id: `${e.name}.${f.name}`,
        source: e.name,
        target: f.target,
        label: `${f.name} · ${f.kind === 'many_to_many' ? 'n:m' : f.kind === 'one_to_one' ? '1:1' : 'n:1'}`,
        ariaLabel: `${e.name}.${f.name}: ${f.kind} to ${f.target}`,
        data: { kind: f.kind },
      });
    }
  }
  if (out.length > LABELLED_EDGES) for (const e of out) delete e.label;
  return out;
}

/** dagre's layout of every entity, as top-left positions. */
export function autoLayout(entities: EntityDef[], edges: Edge[]): Positions {
  const g = new Graph();
  // tight-tree ranking: on 300 entities and 400 relations (bench/load.mjs)
  // dagre's default, network simplex, took 823 ms in Node, tight-tree 198 ms.
  g.setGraph({ rankdir: 'LR', nodesep: 24, ranksep: 90, marginx: 10, marginy: 10, ranker: 'tight-tree' });
  g.setDefaultEdgeLabel(() => ({}));
  for (const e of entities) g.setNode(e.name, { width: NODE_W, height: NODE_H });
  for (const ed of edges) if (ed.source !== ed.target) g.setEdge(ed.source, ed.target);
  layout(g);
  const out: Positions = {};
  for (const e of entities) {
    const n = g.node(e.name);
    out[e.name] = { x: (n?.x ?? 0) - NODE_W / 2, y: (n?.y ?? 0) - NODE_H / 2 };
  }
  return out;
}

export function nodesOf(entities: EntityDef[], positions: Positions): Node<EntityNodeData>[] {
  return entities.map((e) => ({
    id: e.name,
    type: 'entity',
    position: positions[e.name] ?? { x: 0, y: 0 },
    ariaLabel: `Entity ${e.name}`,
    data: {
      name: e.name,
      label: e.label ?? e.name,
      fields: e.fields.length,
      relations: e.fields.filter((f) => f.type === 'relation').length,
    },
  }));
}

const positionsKey = (tenant: string) => storageKey(tenant, 'diagram-positions');

export function loadPositions(tenant: string): Positions {
  try {
    return JSON.parse(localStorage.getItem(positionsKey(tenant)) ?? '{}') as Positions;
  } catch {
    return {};
  }
}

export function savePositions(tenant: string, p: Positions): void {
  localStorage.setItem(positionsKey(tenant), JSON.stringify(p));
}

export function clearPositions(tenant: string): void {
  localStorage.removeItem(positionsKey(tenant));
}

/** Kept positions where there are some, the layout's for the rest. */
export function placed(entities: EntityDef[], edges: Edge[], kept: Positions): Positions {
  const missing = entities.some((e) => !kept[e.name]);
  return missing ? { ...autoLayout(entities, edges), ...kept } : kept;
}
