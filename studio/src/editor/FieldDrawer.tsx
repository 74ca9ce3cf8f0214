import type { ReactNode } from 'react';
import type { FieldDef, FieldType, OnDelete, RelationKind } from '../api/types';
import { describeKey, ITEM_TYPES, LIMITS, ON_DELETE, RELATION_KINDS } from '../api/schema';
import { Dialog } from '../ui/Dialog';
import { labelFromName, optionsFor, withOnlyItsOptions, type OptionKey } from './fieldOptions';
import { TypePicker } from './TypePicker';
import { TransitionsEditor } from './TransitionsEditor';
import { ValueInput } from './ValueInput';
import { errorId, FieldErrors } from './FieldErrors';
import type { Placed } from './violations';

interface Props {
  field: FieldDef;
  index: number;
  entityName: string;
  entityNames: string[];
  problems: Placed;
  onChange: (f: FieldDef) => void;
  onClose: () => void;
}

const KEYWORDS: Partial<Record<FieldType, string>> = {
  timestamp: 'e.g. 2024-01-01T10:00:00Z, or now',
  date: 'e.g. 2024-02-29, or today',
  time: 'e.g. 09:30, or now',
  uuid: 'a uuid, or uuid for a new one per row',
};

/** One field's settings in a side drawer: name, label, description, the type
 * picker, and only the options its type takes, each with Cot's problems at
 * its pointer. */
export function FieldDrawer({ field, index, entityName, entityNames, problems, onChange, onClose }: Props) {
  const base = `/fields/${index}`;
  const id = (k: string) => `f${index}-${k}`;
  const set = (patch: Partial<FieldDef>) => {
    const next: Record<string, unknown> = { ...field, ...patch };
    for (const k of Object.keys(patch)) if (next[k] === undefined || next[k] === '') delete next[k];
    onChange(next as unknown as FieldDef);
  };
  const rename = (name: string) => {
    // A label Cot derived from the old name follows the new name.
    const patch: Partial<FieldDef> = { name };
    if (field.label !== undefined && field.label === labelFromName(field.name)) patch.label = undefined;
    set(patch);
  };
  const retype = (type: FieldType) => {
    const next: FieldDef = { ...field, type };
    if (type === 'relation') {
      next.kind ??= 'many_to_one';
      next.target ??= entityNames.find((n) => n !== entityName) ?? entityName;
    }
    if (type === 'array') next.items ??= 'text';
    if (type === 'state') {
      next.states ??= next.values?.length ? next.values : ['new', 'done'];
      next.initial ??= next.states[0];
    }
    onChange(withOnlyItsOptions(next));
  };
  const at = (k: string) => problems.at(`${base}/${k}`);
  const described = (k: string) => (at(k).length ? errorId(`${base}/${k}`) : undefined);

  const option = (k: OptionKey): ReactNode => {
    const p = `${base}/${k}`;
    const common = { id: id(k), 'aria-describedby': described(k), 'aria-invalid': at(k).length > 0 || undefined };
    let input: ReactNode;
    switch (k) {
      case 'required':
      case 'unique':
      case 'index':
        return (
          <div className="opt check" key={k}>
            <label>
              <input type="checkbox" {...common} checked={field[k] === true} onChange={(e) => set({ [k]: e.target.checked })} />
              {k}
            </label>
            <span className="help">{describeKey(k)}</span>
            <FieldErrors list={at(k)} pointer={p} />
          </div>
        );
      case 'kind':
        input = (
          <select {...common} value={field.kind ?? ''} onChange={(e) => onChange(withOnlyItsOptions({ ...field, kind: e.target.value as RelationKind }))}>
            {RELATION_KINDS.map((x) => <option key={x} value={x}>{x}</option>)}
          </select>
        );
        break;
      case 'target':
        input = (
          <select {...common} value={field.target ?? ''} onChange={(e) => set({ target: e.target.value })}>
            {[...new Set([...entityNames, entityName])].filter(Boolean).map((x) => <option key={x} value={x}>{x}</option>)}
          </select>
        );
        break;
      case 'on_delete':
        input = (
          <select {...common} value={field.on_delete ?? 'restrict'} onChange={(e) => set({ on_delete: e.target.value as OnDelete })}>
            {ON_DELETE.map((x) => <option key={x} value={x}>{x}</option>)}
          </select>
        );
        break;
      case 'items':
        input = (
          <select {...common} value={field.items ?? ''} onChange={(e) => onChange(withOnlyItsOptions({ ...field, items: e.target.value as FieldType }))}>
            {ITEM_TYPES.map((x) => <option key={x} value={x}>{x}</option>)}
          </select>
        );
        break;
      case 'default':
        input =
          field.type === 'boolean' ? (
            <select {...common} value={field.default === undefined ? '' : String(field.default)} onChange={(e) => set({ default: e.target.value === '' ? undefined : e.target.value === 'true' })}>
              <option value="">no default</option>
              <option value="true">true</option>
              <option value="false">false</option>
            </select>
          ) : (
            <ValueInput id={id(k)} type={field.type} value={field.default} onChange={(v) => set({ default: v })} placeholder={KEYWORDS[field.type]} describedBy={described(k)} invalid={at(k).length > 0} />
          );
        break;
      case 'min':
      case 'max':
        input = <ValueInput id={id(k)} type={field.type} value={field[k]} onChange={(v) => set({ [k]: v as number | string | undefined })} describedBy={described(k)} invalid={at(k).length > 0} />;
        break;
      case 'min_length':
      case 'max_length':
      case 'precision':
      case 'scale':
        input = (
          <input
            {...common}
            type="number"
            min={0}
            max={k === 'precision' || k === 'scale' ? LIMITS.precision : LIMITS.lengths}
            value={field[k] ?? ''}
            onChange={(e) => set({ [k]: e.target.value === '' ? undefined : Number(e.target.value) })}
          />
        );
        break;
      case 'pattern':
      case 'inverse':
        input = <input {...common} type="text" spellCheck={false} value={field[k] ?? ''} onChange={(e) => set({ [k]: e.target.value })} />;
        break;
      case 'states':
      case 'starts':
        input = (
          <textarea
            {...common}
            rows={k === 'states' ? 4 : 2}
            value={(field[k] ?? []).join('\n')}
            onChange={(e) => set({ [k]: e.target.value === '' ? undefined : e.target.value.split('\n') })}
          />
        );
        break;
      case 'initial':
        input = (
          <select {...common} value={field.initial ?? ''} onChange={(e) => set({ initial: e.target.value })}>
            {(field.states ?? []).filter(Boolean).map((x) => <option key={x} value={x}>{x}</option>)}
          </select>
        );
        break;
      case 'transitions':
        return <TransitionsEditor key={k} field={field} base={p} problems={problems} onChange={(transitions) => set({ transitions })} />;
      case 'values':
        input = (
          <textarea
            {...common}
            rows={4}
            value={(field.values ?? []).join('\n')}
            onChange={(e) => set({ values: e.target.value === '' ? undefined : e.target.value.split('\n') })}
          />
        );
        break;
    }
    return (
      <div className="opt" key={k}>
        <label htmlFor={id(k)}>{k === 'values' || k === 'states' || k === 'starts' ? `${k} (one per line)` : k}</label>
        {input}
        {describeKey(k) && <span className="help">{describeKey(k)}</span>}
        <FieldErrors list={problems.under(p)} pointer={p} />
      </div>
    );
  };

  // Problems at keys the drawer has no input for (an unknown key in an
  // imported definition) are shown at the top, not lost.
  const shown = new Set<string>(['name', 'label', 'description', 'type', ...optionsFor(field)]);
  const elsewhere = problems.field(index).filter((v) => {
    const key = v.pointer.slice(base.length + 1).split('/')[0] ?? '';
    return v.pointer === base || !shown.has(key);
  });

  return (
    <Dialog title={`Field ${field.name || '(unnamed)'}`} onClose={onClose} id="drawer" className="drawer">
      <FieldErrors list={elsewhere} pointer={base} />
      <div className="opt">
        <label htmlFor={id('name')}>Name</label>
        <input id={id('name')} type="text" spellCheck={false} value={field.name} aria-describedby={described('name')} aria-invalid={at('name').length > 0 || undefined} onChange={(e) => rename(e.target.value)} />
        {field.id && <span className="help">Renaming keeps the column and its data (field id {field.id.slice(0, 8)}…).</span>}
        <FieldErrors list={at('name')} pointer={`${base}/name`} />
      </div>
      <div className="opt">
        <label htmlFor={id('label')}>Label</label>
        <input id={id('label')} type="text" maxLength={LIMITS.label} placeholder={labelFromName(field.name)} value={field.label ?? ''} onChange={(e) => set({ label: e.target.value })} />
        <FieldErrors list={at('label')} pointer={`${base}/label`} />
      </div>
      <div className="opt">
        <label htmlFor={id('description')}>Description</label>
        <textarea id={id('description')} rows={2} maxLength={LIMITS.description} value={field.description ?? ''} onChange={(e) => set({ description: e.target.value })} />
        <span className="help">{describeKey('description')}</span>
        <FieldErrors list={at('description')} pointer={`${base}/description`} />
      </div>
      <TypePicker id={id('type')} value={field.type} onChange={retype} />
      <FieldErrors list={at('type')} pointer={`${base}/type`} />
      <fieldset className="options">
        <legend>Options of {field.type === 'array' ? `array of ${field.items ?? '?'}` : field.type}</legend>
        {optionsFor(field).map(option)}
      </fieldset>
      <div className="actions">
        <button type="button" className="primary" onClick={onClose}>
          Done
        </button>
      </div>
    </Dialog>
  );
}
