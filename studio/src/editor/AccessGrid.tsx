import type { Access, Operation, Rule } from '../api/types';
import { RULES, RULES_HELP } from '../api/schema';
import { FieldErrors } from './FieldErrors';
import type { Placed } from './violations';

const OPERATIONS: Operation[] = ['read', 'create', 'update', 'delete'];

/** Access rules as a grid: one row per operation, one column per rule. */
export function AccessGrid({ access, onChange, problems }: { access: Access; onChange: (a: Access) => void; problems: Placed }) {
  return (
    <section aria-labelledby="access-title" className="access">
      <h2 id="access-title">Access rules</h2>
      <p className="help">{RULES_HELP}. A rule left unset is admin.</p>
      <table className="access-grid">
        <thead>
          <tr>
            <th scope="col">Operation</th>
            {RULES.map((r) => (
              <th scope="col" key={r}>
                {r}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {OPERATIONS.map((op) => (
            <tr key={op}>
              <th scope="row">{op}</th>
              {RULES.map((r: Rule) => (
                <td key={r}>
                  <input
                    type="radio"
                    name={`access-${op}`}
                    aria-label={`${op}: ${r}`}
                    checked={(access[op] ?? 'admin') === r}
                    onChange={() => onChange({ ...access, [op]: r })}
                  />
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
      <FieldErrors list={problems.under('/access')} pointer="/access" />
    </section>
  );
}
