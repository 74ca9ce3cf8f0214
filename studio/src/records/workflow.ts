// Workflows (docs/workflows.md): a record's `state` field moves only along the
// transitions of its definition. What the studio reads of a state field.
import type { EntityDef, TransitionDef } from '../api/types';

export interface StateField {
  name: string;
  states: string[];
  initial: string;
  starts?: string[];
  transitions?: TransitionDef[];
}

/** A transition the caller may take now (cot.transitions). */
export interface Transition {
  name: string;
  label: string | null;
  description: string | null;
  from: string | string[];
  to: string;
}

/** The entity's state field, if it has one (at most one). */
export function stateFieldOf(def: EntityDef): StateField | null {
  const f = def.fields.find((x) => x.type === 'state');
  if (!f || !f.states || !f.initial) return null;
  return { name: f.name, states: f.states, initial: f.initial, starts: f.starts, transitions: f.transitions ?? [] };
}

export const fromList = (t: { from: string | string[] }): string[] => (Array.isArray(t.from) ? t.from : [t.from]);
