import type { PlanStep, StepClass } from '../api/types';

export const CLASS_LABEL: Record<StepClass, string> = {
  metadata: 'metadata',
  validating_scan: 'validating scan',
  table_rewrite: 'rewrite',
  data_loss: 'data loss',
};

const ORDER: StepClass[] = ['data_loss', 'table_rewrite', 'validating_scan', 'metadata'];

export function Summary({ summary }: { summary: Partial<Record<StepClass, number>> }) {
  return (
    <ul className="summary" aria-label="Steps per class">
      {ORDER.map((c) => (
        <li key={c} className={`class-${c}`}>
          <span className="n">{summary[c] ?? 0}</span> {CLASS_LABEL[c]}
        </li>
      ))}
    </ul>
  );
}

/** The steps of a plan: the costly ones first, in full; the metadata steps
 * (comments, grants, views) folded, since they cost nothing but a lock. */
export function PlanSteps({ steps }: { steps: PlanStep[] }) {
  const costly = steps.filter((s) => s.class !== 'metadata');
  const metadata = steps.filter((s) => s.class === 'metadata');
  return (
    <div className="steps">
      {costly.length > 0 && <StepTable steps={costly} caption="Steps that read, rewrite or lose rows" />}
      {metadata.length > 0 && (
        <details>
          <summary>{metadata.length} metadata steps (catalog only)</summary>
          <StepTable steps={metadata} caption="Metadata steps" />
        </details>
      )}
    </div>
  );
}

function StepTable({ steps, caption }: { steps: PlanStep[]; caption: string }) {
  return (
    <table className="plan-steps">
      <caption>{caption}</caption>
      <thead>
        <tr>
          <th scope="col">Step</th>
          <th scope="col">Class</th>
          <th scope="col">Rows</th>
          <th scope="col">SQL</th>
        </tr>
      </thead>
      <tbody>
        {steps.map((s, i) => (
          <tr key={i} className={`class-${s.class}`} data-step={s.step}>
            <td>{s.step}</td>
            <td>
              <span className={`badge class-${s.class}`}>{CLASS_LABEL[s.class]}</span>
            </td>
            <td className="rows">
              {s.rows ?? ''}
              {s.note && <div className="note">{s.note}</div>}
            </td>
            <td>
              <code className="sql">{s.sql}</code>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
