import { useCallback, useEffect, useState } from 'react';
import type { CatalogModule, InstalledModule, InstallPlan, UninstallPlan, UpgradePlan } from '../api/modules';
import { BundlePlanView } from '../bundle/BundlePlanView';
import { useSession } from '../session/session';
import { ErrorText } from '../ui/ErrorText';
import { rowCount } from '../ui/count';

/** The newest version of each module in the catalog (cot.modules lists
 * newest first), with every version. */
function byModule(catalog: CatalogModule[]): Map<string, CatalogModule[]> {
  const out = new Map<string, CatalogModule[]>();
  for (const m of catalog) out.set(m.name, [...(out.get(m.name) ?? []), m]);
  return out;
}

type Pending =
  | { kind: 'install'; name: string; version: string; plan: InstallPlan }
  | { kind: 'upgrade'; name: string; version: string; plan: UpgradePlan }
  | { kind: 'uninstall'; name: string; plan: UninstallPlan };

/** Modules (docs/modules.md): the catalog, what the tenant has installed,
 * and for each the next step with its plan first: install (the modules it
 * brings in and the entities it creates), upgrade (apply_schema's plan, data
 * loss confirmed by name), uninstall (the rows that go, confirmed). */
export default function ModulesScreen() {
  const { api, tenant } = useSession();
  const [catalog, setCatalog] = useState<CatalogModule[] | null>(null);
  const [installed, setInstalled] = useState<InstalledModule[]>([]);
  const [pending, setPending] = useState<Pending | null>(null);
  const [chosen, setChosen] = useState<Record<string, string>>({});
  const [samples, setSamples] = useState(false);
  const [confirmed, setConfirmed] = useState(false);
  const [done, setDone] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  const load = useCallback(async () => {
    try {
      const [c, i] = await Promise.all([api.modules(), api.installedModules()]);
      setCatalog(c);
      setInstalled(i);
    } catch (e) {
      setError(e);
    }
  }, [api]);
  useEffect(() => {
    void load();
  }, [load]);

  async function run(f: () => Promise<void>) {
    setBusy(true);
    setError(null);
    setDone(null);
    try {
      await f();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }

  const preview = (name: string, version: string, current: InstalledModule | undefined) =>
    run(async () => {
      setConfirmed(false);
      if (current) setPending({ kind: 'upgrade', name, version, plan: await api.planUpgrade(name, version) });
      else setPending({ kind: 'install', name, version, plan: await api.planInstall(name, version) });
    });

  const apply = (f: () => Promise<unknown>, message: string) =>
    run(async () => {
      await f();
      setPending(null);
      setChosen({});
      setDone(message);
      await load();
    });

  if (!catalog) return error ? <ErrorText error={error} /> : <p className="loading">Loading modules…</p>;
  const modules = byModule(catalog);
  return (
    <section aria-labelledby="modules-title">
      <h1 id="modules-title">Modules</h1>
      <p className="help">
        Packages of entities published for every tenant. Installing one creates its entities in {tenant}; an upgrade
        changes them to the new version (fields matched by id, so renames keep data); uninstalling drops them. Entities
        you made yourself are never touched.
      </p>
      {modules.size === 0 ? (
        <p>No module is published yet: the platform publishes them with cot.publish_module.</p>
      ) : (
        <table className="modules">
          <caption>Catalog</caption>
          <thead>
            <tr>
              <th scope="col">Module</th>
              <th scope="col">Entities</th>
              <th scope="col">Installed</th>
              <th scope="col">Version</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {[...modules.entries()].map(([name, versions]) => {
              const current = installed.find((m) => m.name === name);
              const newer = versions.filter((v) => !current || v.version !== current.version);
              const pick = chosen[name] ?? newer[0]?.version ?? '';
              const latest = versions[0];
              if (!latest) return null;
              return (
                <tr key={name} data-module={name}>
                  <th scope="row">
                    {name}
                    <div className="help">{latest.description}</div>
                    {Object.keys(latest.depends).length > 0 && (
                      <div className="help">
                        Needs {Object.entries(latest.depends).map(([d, r]) => `${d} ${r}`).join(', ')}
                      </div>
                    )}
                  </th>
                  <td>{latest.entities.join(', ')}</td>
                  <td className="installed">{current ? current.version : '—'}</td>
                  <td>
                    {newer.length > 0 && (
                      <>
                        <label className="sr-only" htmlFor={`version-${name}`}>
                          Version of {name}
                        </label>
                        <select id={`version-${name}`} value={pick} onChange={(e) => setChosen({ ...chosen, [name]: e.target.value })}>
                          {newer.map((v) => (
                            <option key={v.version} value={v.version}>
                              {v.version}
                            </option>
                          ))}
                        </select>
                      </>
                    )}
                  </td>
                  <td className="actions left">
                    {pick && (
                      <button type="button" disabled={busy} onClick={() => void preview(name, pick, current)}>
                        {current ? `Plan the upgrade of ${name}…` : `Preview installing ${name}…`}
                      </button>
                    )}
                    {current && (
                      <button
                        type="button"
                        disabled={busy}
                        onClick={() =>
                          void run(async () => {
                            setConfirmed(false);
                            setPending({ kind: 'uninstall', name, plan: await api.planUninstall(name) });
                          })
                        }
                      >
                        Uninstall {name}…
                      </button>
                    )}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
      {error !== null && <ErrorText error={error} />}
      {done && (
        <p role="status" className="done">
          {done}
        </p>
      )}
      {pending?.kind === 'install' && (
        <section aria-labelledby="install-title" className="bundle-plan">
          <h2 id="install-title">
            Installing {pending.name} {pending.version}
          </h2>
          <p>
            In this order:{' '}
            {pending.plan.install.map((m) => `${m.module} ${m.version} (${m.entities.join(', ')})`).join(', then ')}.
          </p>
          <table>
            <thead>
              <tr>
                <th scope="col">Entity</th>
                <th scope="col">Action</th>
              </tr>
            </thead>
            <tbody>
              {pending.plan.entities.map((e) => (
                <tr key={e.entity} data-entity={e.entity}>
                  <td>{e.entity}</td>
                  <td className="action">{e.action}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <label className="check">
            <input type="checkbox" checked={samples} onChange={(e) => setSamples(e.target.checked)} />
            Also insert the module's sample rows
          </label>
          <div className="actions left">
            <button
              type="button"
              className="primary"
              disabled={busy}
              onClick={() =>
                void apply(() => api.installModule(pending.name, pending.version, samples), `Installed ${pending.name} ${pending.version}.`)
              }
            >
              Install
            </button>
          </div>
        </section>
      )}
      {pending?.kind === 'upgrade' && (
        <section aria-labelledby="upgrade-title">
          <h2 id="upgrade-title">
            Upgrading {pending.name} from {pending.plan.from} to {pending.plan.to}
          </h2>
          {pending.plan.install.length > 0 && (
            <p>First installs {pending.plan.install.map((m) => `${m.module} ${m.version}`).join(', ')}.</p>
          )}
          <BundlePlanView
            plan={pending.plan}
            busy={busy}
            verb="upgrade"
            onApply={(allow) =>
              void apply(
                () => api.upgradeModule(pending.name, pending.version, allow),
                `Upgraded ${pending.name} to ${pending.version}.`,
              )
            }
          />
        </section>
      )}
      {pending?.kind === 'uninstall' && (
        <section aria-labelledby="uninstall-title" className="bundle-plan">
          <h2 id="uninstall-title">Uninstalling {pending.name}</h2>
          <p>
            Drops {pending.plan.entities.map((e) => `${e.entity} (${rowCount(e.rows)})`).join(', ')}.
          </p>
          {pending.plan.rows > 0 && (
            <label className="check">
              <input type="checkbox" checked={confirmed} onChange={(e) => setConfirmed(e.target.checked)} />
              I understand: {rowCount(pending.plan.rows)} {pending.plan.rows === 1 ? 'is' : 'are'} deleted
            </label>
          )}
          <div className="actions left">
            <button
              type="button"
              className="danger"
              disabled={busy || (pending.plan.rows > 0 && !confirmed)}
              onClick={() =>
                void apply(() => api.uninstallModule(pending.name, pending.plan.rows > 0), `Uninstalled ${pending.name}.`)
              }
            >
              Uninstall
            </button>
          </div>
        </section>
      )}
    </section>
  );
}
