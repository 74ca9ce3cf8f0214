import type { Violation } from '../api/types';

export const errorId = (pointer: string) => `err${pointer.replace(/[^a-z0-9_]/gi, '-')}`;

/** The problems Cot reported at one pointer, shown under the input they belong to. */
export function FieldErrors({ list, pointer }: { list: Violation[]; pointer: string }) {
  if (list.length === 0) return null;
  return (
    <div className="field-error" id={errorId(pointer)} role="alert" data-pointer={pointer}>
      {list.map((v, i) => (
        <p key={i}>
          {v.message}
          {v.hint && <span className="hint"> {v.hint}</span>}
        </p>
      ))}
    </div>
  );
}
