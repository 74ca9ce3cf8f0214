// What the studio reads from the JSON Schema of definitions
// (definition-schema.json = cot.definition_schema()): the lists of types,
// relation kinds, on_delete actions and access rules, and the descriptions
// shown as help. Nothing here is typed in twice.
import schema from './definition-schema.json';
import type { FieldType, OnDelete, RelationKind, Rule } from './types';

const field = schema.$defs.field.properties;

export const FIELD_TYPES = field.type.enum as FieldType[];
export const ITEM_TYPES = field.items.enum as FieldType[];
export const RELATION_KINDS = field.kind.enum as RelationKind[];
export const ON_DELETE = field.on_delete.enum as OnDelete[];
export const RULES = schema.$defs.rule.enum as Rule[];
export const RULES_HELP: string = schema.$defs.rule.description;
export const NAME_PATTERN = new RegExp(schema.properties.name.pattern);

/** The JSON Schema's description of a field key, when it has one. */
export function describeKey(key: string): string | undefined {
  const p = (field as Record<string, { description?: string }>)[key];
  return p?.description;
}

export const LIMITS = {
  label: schema.$defs.field.properties.label.maxLength,
  description: schema.$defs.field.properties.description.maxLength,
  pattern: schema.$defs.field.properties.pattern.maxLength,
  precision: schema.$defs.field.properties.precision.maximum,
  lengths: schema.$defs.field.properties.max_length.maximum,
};
