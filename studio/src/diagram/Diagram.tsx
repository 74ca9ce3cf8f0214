import { useCallback, useEffect, useMemo, useState } from 'react';
import {
  Background, Controls, ReactFlow, applyNodeChanges,
  type Connection, type Node, type NodeChange,
} from '@xyflow/react';
import '@xyflow/react/dist/style.css';
import type { EntityDef, FieldDef, Plan } from '../api/types';
import { useSession } from '../session/session';
import { ErrorText } from '../ui/ErrorText';
import { PlanDialog } from '../plan/PlanDialog';
import { EntityNode } from './EntityNode';
import { RelationDialog } from './RelationDialog';
import {
  clearPositions, edgesOf, loadPositions, nodesOf, placed, savePositions, type EntityNodeData, type Positions,
} from './graph';

const nodeTypes = { entity: EntityNode };

/** The relationship designer: every entity and relation of the tenant,
 * laid out automatically, zoom and pan, positions kept; a relation is made
 * by dragging from one entity to another (or with the form, by keyboard). */
export default function Diagram() {
  const { api, tenant } = useSession();
  const [entities, setEntities] = useState<EntityDef[] | null>(null);
  const [nodes, setNodes] = useState<Node<EntityNodeData>[]>([]);
  const [error, setError] = useState<unknown>(null);
  const [pending, setPending] = useState<{ source: string; target: string } | null>(null);
  const [change, setChange] = useState<{ def: EntityDef; plan: Plan } | null>(null);
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');

  const load = useCallback(async () => {
    try {
      const bundle = await api.exportSchema();
      performance.mark('cot:diagram:fetched');
      setEntities(bundle.entities);
    } catch (e) {
      setError(e);
    }
  }, [api]);
  useEffect(() => {
    void load();
  }, [load]);

  const edges = useMemo(() => (entities ? edgesOf(entities) : []), [entities]);
  useEffect(() => {
    if (!entities) return;
    // The layout is kept like dragged positions: the diagram does not move
    // between visits, and a big tenant is laid out once.
    const kept = loadPositions(tenant);
    const positions = placed(entities, edges, kept);
    if (positions !== kept) savePositions(tenant, positions);
    setNodes(nodesOf(entities, positions));
    performance.mark('cot:diagram:laid-out');
  }, [entities, edges, tenant]);

  const onNodesChange = useCallback((changes: NodeChange<Node<EntityNodeData>>[]) => setNodes((ns) => applyNodeChanges(changes, ns)), []);
  const keep = useCallback(() => {
    const p: Positions = {};
    for (const n of nodes) p[n.id] = n.position;
    savePositions(tenant, p);
  }, [nodes, tenant]);
  const onConnect = useCallback((c: Connection) => setPending({ source: c.source, target: c.target }), []);

  async function review(field: FieldDef) {
    if (!pending) return;
    const stored = await api.entity(pending.source);
    const def = { ...stored, fields: [...stored.fields, field] };
    const plan = await api.plan(def);
    setPending(null);
    setChange({ def, plan });
  }

  async function apply(allowDataLoss: boolean) {
    if (!change) return;
    await api.alter(change.def, allowDataLoss ? { allow_data_loss: true } : {});
    setChange(null);
    await load();
  }

  if (error != null) return <ErrorText error={error} />;
  const names = (entities ?? []).map((e) => e.name);
  return (
    <section aria-labelledby="diagram-title" className="diagram-screen">
      <div className="screen-head">
        <h1 id="diagram-title">Relationships</h1>
        <button
          type="button"
          onClick={() => {
            clearPositions(tenant);
            if (entities) setNodes(nodesOf(entities, placed(entities, edges, {})));
          }}
        >
          Lay out again
        </button>
      </div>
      <form
        className="relation-form"
        onSubmit={(e) => {
          e.preventDefault();
          if (from && to) setPending({ source: from, target: to });
        }}
      >
        <span>New relation (or drag from an entity's right handle to another entity):</span>
        <label htmlFor="rel-from">from</label>
        <select id="rel-from" value={from} onChange={(e) => setFrom(e.target.value)}>
          <option value="">entity…</option>
          {names.map((n) => <option key={n}>{n}</option>)}
        </select>
        <label htmlFor="rel-to">to</label>
        <select id="rel-to" value={to} onChange={(e) => setTo(e.target.value)}>
          <option value="">entity…</option>
          {names.map((n) => <option key={n}>{n}</option>)}
        </select>
        <button type="submit" disabled={!from || !to}>
          Add relation…
        </button>
      </form>
      <p className="count">
        {entities ? `${entities.length} entities, ${edges.length} relations` : 'Loading…'}
      </p>
      <div className="diagram" data-testid="diagram" data-drawn={entities ? nodes.length : undefined}>
        {entities && (
          <ReactFlow
            nodes={nodes}
            edges={edges}
            nodeTypes={nodeTypes}
            onNodesChange={onNodesChange}
            onNodeDragStop={keep}
            onConnect={onConnect}
            fitView
            fitViewOptions={{ maxZoom: 1 }}
            minZoom={0.05}
            proOptions={{ hideAttribution: true }}
            ariaLabelConfig={{ 'node.a11yDescription.default': 'Press enter or space to select an entity; arrow keys move it.' }}
          >
            <Background />
            <Controls />
          </ReactFlow>
        )}
      </div>
      {pending && <RelationDialog source={pending.source} target={pending.target} onReview={review} onClose={() => setPending(null)} />}
      {change && <PlanDialog plan={change.plan} onApply={apply} onClose={() => setChange(null)} />}
    </section>
  );
}
