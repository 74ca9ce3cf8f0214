import { Handle, Position, type NodeProps, type Node } from '@xyflow/react';
import type { EntityNodeData } from './graph';

/** An entity in the diagram. Drag from its right handle to another entity
 * to add a relation. */
export function EntityNode({ data }: NodeProps<Node<EntityNodeData>>) {
  return (
    <div className="entity-node" data-entity={data.name}>
      <Handle type="target" position={Position.Left} />
      <a className="entity-node-name nodrag" href={`#/entities/${encodeURIComponent(data.name)}`}>
        {data.name}
      </a>
      <span className="entity-node-meta">
        {data.fields} fields{data.relations ? `, ${data.relations} relations` : ''}
      </span>
      <Handle type="source" position={Position.Right} />
    </div>
  );
}
