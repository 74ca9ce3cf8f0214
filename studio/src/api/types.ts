// The shapes of Cot's documents, as the /rpc/ wrappers send and take them.
// The keys of a definition are not restated freely: `FieldKeysMatch` and
// `EntityKeysMatch` below fail the type check when they differ from the JSON
// Schema of definitions (definition-schema.json, the output of
// cot.definition_schema(), which the browser tests compare with the server's).
import type schema from './definition-schema.json';

export type FieldType =
  | 'text' | 'integer' | 'bigint' | 'decimal' | 'float' | 'boolean' | 'date' | 'timestamp'
  | 'time' | 'uuid' | 'json' | 'enum' | 'email' | 'url' | 'array' | 'relation' | 'state';
export type RelationKind = 'many_to_one' | 'one_to_one' | 'one_to_many' | 'many_to_many';
export type OnDelete = 'restrict' | 'cascade' | 'set_null';
export type Rule = 'public' | 'tenant' | 'owner' | 'admin' | 'none';
export type Operation = 'read' | 'create' | 'update' | 'delete';

export interface FieldDef {
  id?: string;
  name: string;
  type: FieldType;
  items?: FieldType;
  label?: string;
  description?: string;
  required?: boolean;
  unique?: boolean;
  index?: boolean;
  default?: unknown;
  min?: number | string;
  max?: number | string;
  min_length?: number;
  max_length?: number;
  pattern?: string;
  precision?: number;
  scale?: number;
  values?: string[];
  kind?: RelationKind;
  target?: string;
  on_delete?: OnDelete;
  inverse?: string;
  column?: string;
  junction?: string;
  states?: string[];
  initial?: string;
  starts?: string[];
  transitions?: TransitionDef[];
}

/** A move of a state field (docs/workflows.md). */
export interface TransitionDef {
  name: string;
  from: string | string[];
  to: string;
  who?: string | string[];
  guard?: Record<string, unknown>;
  label?: string;
  description?: string;
}

export interface IndexDef {
  fields: string[];
  unique?: boolean;
}

export type Access = Partial<Record<Operation, Rule>>;

export interface EntityDef {
  tenant?: string;
  name: string;
  id?: string;
  version?: number;
  label?: string;
  description?: string;
  fields: FieldDef[];
  indexes?: IndexDef[];
  access?: Access;
  history?: boolean;
  referenced_by?: unknown[];
}

type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type SchemaFieldKey = keyof (typeof schema)['$defs']['field']['properties'];
type SchemaEntityKey = keyof (typeof schema)['properties'];
export const FieldKeysMatch: Same<keyof FieldDef, SchemaFieldKey> = true;
export const EntityKeysMatch: Same<keyof EntityDef, SchemaEntityKey> = true;

/** One problem of a definition or a change, at its JSON pointer. */
export interface Violation {
  pointer: string;
  sqlstate?: string;
  message: string;
  hint?: string | null;
}

export type StepClass = 'metadata' | 'validating_scan' | 'table_rewrite' | 'data_loss';

export interface PlanStep {
  step: string;
  class: StepClass;
  sql: string;
  rows?: number;
  note?: string;
}

/** What cot.plan_entity returns (docs/evolution.md, "Previewing"). */
export interface Plan {
  action: 'create' | 'alter' | 'none';
  entity: string;
  tenant: string;
  version: number | null;
  changes: PlanStep[];
  pending?: { step: string; sql: string }[];
  refused?: Violation[];
  summary: Partial<Record<StepClass, number>>;
}

/** A row of /rpc/entities. */
export interface EntitySummary {
  id: string;
  name: string;
  label: string | null;
  description: string | null;
  fields: number;
  version: number;
  created_at: string;
  updated_at: string;
}

/** A cot.schema/1 bundle (export_schema). */
export interface Bundle {
  format: string;
  tenant: string;
  entities: EntityDef[];
}

/** One entity of apply_schema's dry run. */
export interface BundleEntityPlan {
  action: 'create' | 'alter' | 'none' | 'drop';
  entity: string;
  version?: number;
  rows?: number;
  changes?: PlanStep[];
  pending?: { step: string; sql: string }[];
  summary?: Partial<Record<StepClass, number>>;
}

export interface BundlePlan {
  tenant: string;
  dry_run: boolean;
  refused: Violation[];
  entities: BundleEntityPlan[];
}

export interface BundleResult {
  tenant: string;
  created: string[];
  altered: string[];
  dropped: string[];
  unchanged: string[];
}
