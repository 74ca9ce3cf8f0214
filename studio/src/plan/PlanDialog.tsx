import { useState } from 'react';
import type { Plan, Violation } from '../api/types';
import { Dialog } from '../ui/Dialog';
import { ErrorText } from '../ui/ErrorText';
import { PlanSteps, Summary } from './PlanSteps';
import { rowCount } from '../ui/count';

interface Props {
  plan: Plan;
  onApply: (allowDataLoss: boolean) => Promise<void>;
  onClose: () => void;
}

/** Plan before apply: every save shows cot.plan_entity's steps with their
 * class and row counts. What would be refused blocks the apply; data loss
 * needs an explicit confirmation that names what is lost. */
export function PlanDialog({ plan, onApply, onClose }: Props) {
  const refused = plan.refused ?? [];
  const losses = refused.filter((r) => r.sqlstate === '22000');
  const blocking = refused.filter((r) => r.sqlstate !== '22000');
  const lossSteps = plan.changes.filter((c) => c.class === 'data_loss');
  const needsConfirm = losses.length > 0 || lossSteps.length > 0;
  const [confirmed, setConfirmed] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);

  const title =
    plan.action === 'create' ? `Create ${plan.entity}` : plan.action === 'none' ? 'Nothing to change' : `Change ${plan.entity}`;

  async function apply() {
    setBusy(true);
    setError(null);
    try {
      await onApply(needsConfirm && confirmed);
    } catch (e) {
      setError(e);
      setBusy(false);
    }
  }

  return (
    <Dialog title={title} onClose={onClose} id="plan" className="dialog wide">
      {plan.action === 'none' ? (
        <p>The definition is the stored one: nothing would change.</p>
      ) : (
        <>
          <Summary summary={plan.summary} />
          <PlanSteps steps={plan.changes} />
          {(plan.pending?.length ?? 0) > 0 && (
            <p className="note">{plan.pending?.length} steps are left pending (run later, see cot.check).</p>
          )}
        </>
      )}
      {blocking.length > 0 && (
        <div className="refused" role="alert">
          <h3>Refused: fix these first</h3>
          <ViolationList list={blocking} />
        </div>
      )}
      {needsConfirm && blocking.length === 0 && (
        <div className="loss" role="group" aria-labelledby="loss-title">
          <h3 id="loss-title">This change loses data</h3>
          <ul>
            {losses.map((l, i) => (
              <li key={`r${i}`}>{l.message}</li>
            ))}
            {losses.length === 0 &&
              lossSteps.map((s, i) => (
                <li key={`s${i}`}>
                  {s.step}: {rowCount(s.rows ?? 0)}{s.note ? ` (${s.note})` : ''}
                </li>
              ))}
          </ul>
          <label className="check">
            <input type="checkbox" checked={confirmed} onChange={(e) => setConfirmed(e.target.checked)} />
            I understand: {losses.map((l) => l.message).join('; ') || 'the values above are lost'}
          </label>
        </div>
      )}
      {error != null && <ErrorText error={error} />}
      <div className="actions">
        <button type="button" onClick={onClose}>
          {plan.action === 'none' ? 'Close' : 'Back to editing'}
        </button>
        {plan.action !== 'none' && (
          <button
            type="button"
            className={needsConfirm ? 'danger' : 'primary'}
            disabled={busy || blocking.length > 0 || (needsConfirm && !confirmed)}
            onClick={apply}
          >
            {busy ? 'Applying…' : needsConfirm ? 'Apply and lose this data' : 'Apply'}
          </button>
        )}
      </div>
    </Dialog>
  );
}

export function ViolationList({ list }: { list: Violation[] }) {
  return (
    <ul className="violations">
      {list.map((v, i) => (
        <li key={i}>
          {v.pointer && <code>{v.pointer}</code>} {v.message}
          {v.hint && <div className="hint">{v.hint}</div>}
        </li>
      ))}
    </ul>
  );
}
