import type { FieldDef, IndexDef } from '../api/types';
import { FieldErrors } from './FieldErrors';
import type { Placed } from './violations';

const SYSTEM = ['id', 'created_at', 'updated_at'];

/** The columns an index may name: fields, system columns, and the columns of
 * many_to_one and one_to_one relations (`customer_id`). */
function columns(fields: FieldDef[]): string[] {
  const out: string[] = [];
  for (const f of fields) {
    if (f.type !== 'relation') out.push(f.name);
    else if (f.kind === 'many_to_one' || f.kind === 'one_to_one') out.push(`${f.name}_id`);
  }
  return [...out.filter(Boolean), ...SYSTEM];
}

interface Props {
  indexes: IndexDef[];
  fields: FieldDef[];
  problems: Placed;
  onChange: (ix: IndexDef[]) => void;
}

/** Compound indexes and unique constraints: fields in index order. */
export function IndexesEditor({ indexes, fields, problems, onChange }: Props) {
  const cols = columns(fields);
  const update = (i: number, ix: IndexDef) => onChange(indexes.map((x, j) => (j === i ? ix : x)));
  return (
    <section aria-labelledby="indexes-title" className="indexes">
      <h2 id="indexes-title">Indexes</h2>
      <p className="help">A single field's index or uniqueness is in its drawer; here are indexes over several fields.</p>
      <ol className="index-list">
        {indexes.map((ix, i) => (
          <li key={i}>
            <span className="index-fields" aria-label={`Fields of index ${i + 1}`}>
              {ix.fields.map((f, j) => (
                <span className="chip" key={`${f}-${j}`}>
                  {f}
                  <button type="button" aria-label={`Remove ${f} from index ${i + 1}`} onClick={() => update(i, { ...ix, fields: ix.fields.filter((_, k) => k !== j) })}>
                    ×
                  </button>
                </span>
              ))}
            </span>
            <label className="sr-only" htmlFor={`ix-${i}-add`}>
              Add a field to index {i + 1}
            </label>
            <select id={`ix-${i}-add`} value="" onChange={(e) => e.target.value && update(i, { ...ix, fields: [...ix.fields, e.target.value] })}>
              <option value="">add field…</option>
              {cols.filter((c) => !ix.fields.includes(c)).map((c) => (
                <option key={c} value={c}>
                  {c}
                </option>
              ))}
            </select>
            <label className="check">
              <input type="checkbox" checked={ix.unique === true} onChange={(e) => update(i, { ...ix, unique: e.target.checked })} />
              unique together
            </label>
            <button type="button" onClick={() => onChange(indexes.filter((_, j) => j !== i))}>
              Remove index
            </button>
            <FieldErrors list={problems.under(`/indexes/${i}`)} pointer={`/indexes/${i}`} />
          </li>
        ))}
      </ol>
      <button type="button" onClick={() => onChange([...indexes, { fields: [] }])}>
        Add index
      </button>
      <FieldErrors list={problems.at('/indexes')} pointer="/indexes" />
    </section>
  );
}
