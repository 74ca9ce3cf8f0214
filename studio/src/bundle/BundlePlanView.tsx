import { useState } from 'react';
import type { BundlePlan } from '../api/types';
import { ViolationList } from '../plan/PlanDialog';
import { PlanSteps, Summary } from '../plan/PlanSteps';
import { rowCount } from '../ui/count';

interface Props {
  plan: BundlePlan;
  busy: boolean;
  onApply: (allowDataLoss: boolean) => void;
  /** What is applied: "import" (a bundle) or "upgrade" (a module). */
  verb?: 'import' | 'upgrade';
}

/** What an import would do, entity by entity (apply_schema's dry run). */
export function BundlePlanView({ plan, busy, onApply, verb = 'import' }: Props) {
  const Verb = verb === 'import' ? 'Import' : 'Upgrade';
  const losses = plan.refused.filter((r) => r.sqlstate === '22000');
  const blocking = plan.refused.filter((r) => r.sqlstate !== '22000');
  const lossSteps = plan.entities.flatMap((e) => (e.changes ?? []).filter((c) => c.class === 'data_loss'));
  const needsConfirm = losses.length > 0 || lossSteps.length > 0 || plan.entities.some((e) => e.action === 'drop' && (e.rows ?? 0) > 0);
  const [confirmed, setConfirmed] = useState(false);
  // An upgrade that changes no entity still moves the module to its new version.
  const changing = verb === 'upgrade' ? plan.entities : plan.entities.filter((e) => e.action !== 'none');
  return (
    <section aria-labelledby="bundle-plan-title" className="bundle-plan">
      <h3 id="bundle-plan-title">What the {verb} would do</h3>
      <table>
        <thead>
          <tr>
            <th scope="col">Entity</th>
            <th scope="col">Action</th>
            <th scope="col">Steps</th>
          </tr>
        </thead>
        <tbody>
          {plan.entities.map((e) => (
            <tr key={e.entity} data-entity={e.entity}>
              <td>{e.entity}</td>
              <td className="action">
                {e.action}
                {e.action === 'drop' ? ` (${rowCount(e.rows ?? 0)})` : ''}
              </td>
              <td>
                {e.summary && <Summary summary={e.summary} />}
                {e.changes && e.changes.length > 0 && (
                  <details>
                    <summary>{e.changes.length} steps</summary>
                    <PlanSteps steps={e.changes} />
                  </details>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {blocking.length > 0 && (
        <div className="refused" role="alert">
          <h3>Refused: fix the {verb === 'import' ? 'bundle' : 'module'} or the data first</h3>
          <ViolationList list={blocking} />
        </div>
      )}
      {needsConfirm && blocking.length === 0 && (
        <div className="loss" role="group" aria-labelledby="bundle-loss-title">
          <h3 id="bundle-loss-title">This {verb} loses data</h3>
          <ViolationList list={losses} />
          <label className="check">
            <input type="checkbox" checked={confirmed} onChange={(e) => setConfirmed(e.target.checked)} />
            I understand: {losses.map((l) => l.message).join('; ') || 'the data above is lost'}
          </label>
        </div>
      )}
      <div className="actions left">
        <button
          type="button"
          className={needsConfirm ? 'danger' : 'primary'}
          disabled={busy || blocking.length > 0 || (needsConfirm && !confirmed) || changing.length === 0}
          onClick={() => onApply(needsConfirm && confirmed)}
        >
          {changing.length === 0 ? `Nothing to ${verb}` : needsConfirm ? `${Verb} and lose this data` : Verb}
        </button>
      </div>
    </section>
  );
}
