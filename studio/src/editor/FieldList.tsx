import type { FieldDef } from '../api/types';
import { TYPE_INFO } from './fieldOptions';
import type { Placed } from './violations';

interface Props {
  fields: FieldDef[];
  problems: Placed;
  onOpen: (i: number) => void;
  onRemove: (i: number) => void;
  onAdd: () => void;
}

function typeText(f: FieldDef): string {
  if (f.type === 'array') return `array of ${f.items ?? '?'}`;
  if (f.type === 'relation') return `${f.kind ?? '?'} → ${f.target ?? '?'}`;
  return f.type;
}

/** The entity's fields in column order; each opens its drawer. */
export function FieldList({ fields, problems, onOpen, onRemove, onAdd }: Props) {
  return (
    <section aria-labelledby="fields-title" className="fields">
      <h2 id="fields-title">Fields</h2>
      <p className="help">
        Every entity also has <code>id</code>, <code>created_at</code> and <code>updated_at</code>.
      </p>
      <ul className="field-list">
        {fields.map((f, i) => {
          const errs = problems.field(i);
          return (
            <li key={f.id ?? `new-${i}`} className={errs.length ? 'field invalid' : 'field'} data-field={f.name}>
              <span className="glyph" aria-hidden="true">
                {TYPE_INFO[f.type]?.glyph ?? '?'}
              </span>
              <button type="button" className="field-open" onClick={() => onOpen(i)}>
                <span className="field-name">{f.name || '(unnamed)'}</span>
                <span className="field-type">{typeText(f)}</span>
                {f.required && <span className="badge">required</span>}
                {f.unique && <span className="badge">unique</span>}
                {f.index && <span className="badge">index</span>}
                {!f.id && <span className="badge new">new</span>}
              </button>
              {errs.length > 0 && (
                <span className="field-problem" role="alert">
                  {errs[0]?.message}
                  {errs.length > 1 ? ` (+${errs.length - 1})` : ''}
                </span>
              )}
              <button type="button" className="remove" onClick={() => onRemove(i)} aria-label={`Remove field ${f.name || i + 1}`}>
                Remove
              </button>
            </li>
          );
        })}
      </ul>
      <button type="button" onClick={onAdd}>
        Add field
      </button>
    </section>
  );
}
