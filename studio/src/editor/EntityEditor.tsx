import { useEffect, useMemo, useState } from 'react';
import type { EntityDef, FieldDef, Plan } from '../api/types';
import { useSession } from '../session/session';
import { ErrorText } from '../ui/ErrorText';
import { go, href } from '../ui/route';
import { flash, takeFlash } from '../ui/flash';
import { PlanDialog } from '../plan/PlanDialog';
import { AccessGrid } from './AccessGrid';
import { FieldDrawer } from './FieldDrawer';
import { FieldErrors } from './FieldErrors';
import { FieldList } from './FieldList';
import { IndexesEditor } from './IndexesEditor';
import { useEntityDraft, useLiveCheck } from './useEntityDraft';
import { Placed } from './violations';
import { DropEntity } from './DropEntity';

/** The entity editor: fields, indexes, access rules and the entity's own
 * settings; every save goes through the plan. `name` null: a new entity. */
export function EntityEditor({ name }: { name: string | null }) {
  const { api, tenant } = useSession();
  const { original, def, setDef, discard, saved, dirty, restoredAt, error } = useEntityDraft(api, tenant, name);
  const isNew = name === null;
  const { problems: found, checking } = useLiveCheck(api, def, isNew, dirty);
  const problems = useMemo(() => new Placed(found), [found]);
  const [open, setOpen] = useState<number | null>(null);
  const [plan, setPlan] = useState<Plan | null>(null);
  const [planError, setPlanError] = useState<unknown>(null);
  const [notice, setNotice] = useState<string | null>(() => takeFlash());
  const [entityNames, setEntityNames] = useState<string[]>([]);

  useEffect(() => {
    api.entities().then((l) => setEntityNames(l.map((e) => e.name)), () => undefined);
  }, [api]);

  if (error != null) return <ErrorText error={error} />;
  if (!def) return <p className="loading">Loading…</p>;

  const update = (patch: Partial<EntityDef>) => setDef({ ...def, ...patch });
  const setField = (i: number, f: FieldDef) => update({ fields: def.fields.map((x, j) => (j === i ? f : x)) });
  const openField = open !== null ? def.fields[open] : undefined;

  async function review() {
    if (!def) return;
    setPlanError(null);
    setNotice(null);
    try {
      setPlan(await api.plan(def));
    } catch (e) {
      setPlanError(e);
    }
  }

  async function apply(allowDataLoss: boolean) {
    if (!def) return;
    const stored = isNew ? await api.create(def) : await api.alter(def, allowDataLoss ? { allow_data_loss: true } : {});
    setPlan(null);
    saved(stored);
    const message = `Saved ${stored.name}: version ${stored.version ?? 1}.`;
    if (isNew) {
      flash(message);
      go({ screen: 'entity', name: stored.name });
    } else {
      setNotice(message);
    }
  }

  return (
    <section aria-labelledby="editor-title" className="editor">
      <p className="crumbs">
        <a href={href({ screen: 'entities' })}>Entities</a> / {isNew ? 'new' : name}
        {!isNew && name && (
          <>
            {' · '}
            <a href={href({ screen: 'records', name })}>Browse its records</a>
          </>
        )}
      </p>
      <div className="screen-head">
        <h1 id="editor-title">{isNew ? 'New entity' : `Entity ${name}`}</h1>
        <span className="status" aria-live="polite">
          {checking ? 'Checking…' : found.length ? `${found.length} problem${found.length > 1 ? 's' : ''}` : dirty ? 'Valid, not saved' : 'Saved'}
        </span>
      </div>
      {restoredAt && (
        <div className="banner" role="status">
          Unsaved changes from {new Date(restoredAt).toLocaleString()} were restored.{' '}
          <button type="button" onClick={discard}>
            Discard changes
          </button>
        </div>
      )}
      {notice && (
        <p className="notice" role="status">
          {notice}
        </p>
      )}
      <section aria-labelledby="settings-title" className="settings">
        <h2 id="settings-title">Entity</h2>
        <div className="opt">
          <label htmlFor="entity-name">Name</label>
          <input id="entity-name" type="text" spellCheck={false} value={def.name} readOnly={!isNew} aria-describedby="entity-name-help" onChange={(e) => update({ name: e.target.value })} />
          <span className="help" id="entity-name-help">
            {isNew ? 'Lower case: the table and API path' : 'An entity cannot be renamed'}
          </span>
          <FieldErrors list={problems.at('/name')} pointer="/name" />
        </div>
        <div className="opt">
          <label htmlFor="entity-label">Label</label>
          <input id="entity-label" type="text" value={def.label ?? ''} onChange={(e) => update({ label: e.target.value || undefined })} />
          <FieldErrors list={problems.at('/label')} pointer="/label" />
        </div>
        <div className="opt">
          <label htmlFor="entity-description">Description</label>
          <textarea id="entity-description" rows={2} value={def.description ?? ''} onChange={(e) => update({ description: e.target.value || undefined })} />
        </div>
        <label className="check">
          <input type="checkbox" checked={def.history === true} onChange={(e) => update({ history: e.target.checked || undefined })} />
          Keep the history of every record
        </label>
        <FieldErrors list={problems.entityLevel().filter((v) => !/^\/(name|label|indexes|access)(\/|$)/.test(v.pointer))} pointer="" />
      </section>
      <FieldList
        fields={def.fields}
        problems={problems}
        onOpen={setOpen}
        onRemove={(i) => update({ fields: def.fields.filter((_, j) => j !== i) })}
        onAdd={() => {
          update({ fields: [...def.fields, { name: '', type: 'text' }] });
          setOpen(def.fields.length);
        }}
      />
      <IndexesEditor indexes={def.indexes ?? []} fields={def.fields} problems={problems} onChange={(ix) => update({ indexes: ix.length ? ix : undefined })} />
      <AccessGrid access={def.access ?? {}} onChange={(access) => update({ access })} problems={problems} />
      {planError != null && <ErrorText error={planError} />}
      <div className="actions sticky">
        {dirty && (
          <button type="button" onClick={discard}>
            Discard changes
          </button>
        )}
        {!isNew && original && <DropEntity name={original.name} />}
        <button type="button" className="primary" onClick={review} disabled={!dirty && !isNew}>
          Review and save…
        </button>
      </div>
      {openField && open !== null && (
        <FieldDrawer
          field={openField}
          index={open}
          entityName={def.name}
          entityNames={entityNames}
          problems={problems}
          onChange={(f) => setField(open, f)}
          onClose={() => setOpen(null)}
        />
      )}
      {plan && <PlanDialog plan={plan} onApply={apply} onClose={() => setPlan(null)} />}
    </section>
  );
}
