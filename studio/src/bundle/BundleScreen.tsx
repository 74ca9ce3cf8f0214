import { useState } from 'react';
import type { BundlePlan, BundleResult } from '../api/types';
import { useSession } from '../session/session';
import { ErrorText } from '../ui/ErrorText';
import { BundlePlanView } from './BundlePlanView';

/** Export the tenant's model as a cot.schema/1 bundle, and import one: the
 * dry run's plan first (per entity: create, alter, drop, with each step's
 * class and rows), then the apply, with data loss confirmed by name. */
export default function BundleScreen() {
  const { api, tenant } = useSession();
  const [exported, setExported] = useState<string>('');
  const [text, setText] = useState('');
  const [parseError, setParseError] = useState<string | null>(null);
  const [plan, setPlan] = useState<BundlePlan | null>(null);
  const [result, setResult] = useState<BundleResult | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  async function doExport() {
    setError(null);
    try {
      setExported(JSON.stringify(await api.exportSchema(), null, 2));
    } catch (e) {
      setError(e);
    }
  }

  function download() {
    const url = URL.createObjectURL(new Blob([exported], { type: 'application/json' }));
    const a = document.createElement('a');
    a.href = url;
    a.download = `${tenant}.schema.json`;
    a.click();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  }

  function parsed(): unknown | undefined {
    try {
      const v = JSON.parse(text) as unknown;
      setParseError(null);
      return v;
    } catch (e) {
      setParseError(`Not JSON: ${e instanceof Error ? e.message : String(e)}`);
      return undefined;
    }
  }

  async function preview() {
    const bundle = parsed();
    setPlan(null);
    setResult(null);
    setError(null);
    if (bundle === undefined) return;
    setBusy(true);
    try {
      setPlan(await api.planBundle(bundle));
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }

  async function apply(allowDataLoss: boolean) {
    const bundle = parsed();
    if (bundle === undefined) return;
    setBusy(true);
    setError(null);
    try {
      setResult(await api.applyBundle(bundle, allowDataLoss ? { allow_data_loss: true } : {}));
      setPlan(null);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }

  return (
    <section aria-labelledby="bundle-title">
      <h1 id="bundle-title">Import / export</h1>
      <section aria-labelledby="export-title" className="settings">
        <h2 id="export-title">Export</h2>
        <p className="help">Every entity of {tenant} with its ids, as one document to keep in git and apply elsewhere.</p>
        <div className="actions left">
          <button type="button" onClick={doExport}>
            Export the schema
          </button>
          {exported && (
            <button type="button" onClick={download}>
              Download {tenant}.schema.json
            </button>
          )}
        </div>
        {exported && (
          <>
            <label htmlFor="exported">Exported bundle</label>
            <textarea id="exported" className="json" rows={12} readOnly value={exported} spellCheck={false} />
          </>
        )}
      </section>
      <section aria-labelledby="import-title" className="settings">
        <h2 id="import-title">Import</h2>
        <p className="help">
          The tenant's entities become those of the bundle: new ones are created, changed ones altered (fields matched by
          id, so renames keep data), and entities missing from the bundle are dropped. The plan comes first.
        </p>
        <label htmlFor="bundle-file">Bundle file</label>
        <input
          id="bundle-file"
          type="file"
          accept="application/json,.json"
          onChange={async (e) => {
            const f = e.target.files?.[0];
            if (f) setText(await f.text());
          }}
        />
        <label htmlFor="bundle-text">Bundle (JSON)</label>
        <textarea
          id="bundle-text"
          className="json"
          rows={12}
          value={text}
          spellCheck={false}
          aria-invalid={parseError ? true : undefined}
          aria-describedby={parseError ? 'bundle-parse' : undefined}
          onChange={(e) => setText(e.target.value)}
        />
        {parseError && (
          <p id="bundle-parse" className="error" role="alert">
            {parseError}
          </p>
        )}
        <div className="actions left">
          <button type="button" className="primary" disabled={!text.trim() || busy} onClick={preview}>
            Preview the import…
          </button>
        </div>
        {error != null && <ErrorText error={error} />}
        {plan && <BundlePlanView plan={plan} busy={busy} onApply={apply} />}
        {result && (
          <p className="notice" role="status">
            Imported: {result.created.length} created, {result.altered.length} altered, {result.dropped.length} dropped,{' '}
            {result.unchanged.length} unchanged.
          </p>
        )}
      </section>
    </section>
  );
}
