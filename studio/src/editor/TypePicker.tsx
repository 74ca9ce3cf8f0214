import type { FieldType } from '../api/types';
import { FIELD_TYPES } from '../api/schema';
import { TYPE_INFO } from './fieldOptions';

interface Props {
  value: FieldType;
  onChange: (t: FieldType) => void;
  /** Prefix of the radio ids. */
  id: string;
}

/** Every field type as a card with a picture and a line of help; a radio
 * group, so arrow keys move between types. */
export function TypePicker({ value, onChange, id }: Props) {
  return (
    <fieldset className="type-picker">
      <legend>Type</legend>
      <div className="types">
        {FIELD_TYPES.map((t) => (
          <label key={t} className={t === value ? "type selected" : "type"} htmlFor={`${id}-${t}`} data-type={t}>
            <input
              type="radio"
              id={`${id}-${t}`}
              name={`${id}-type`}
              value={t}
              checked={t === value}
              onChange={() => onChange(t)}
            />
            <span className="glyph" aria-hidden="true">
              {TYPE_INFO[t].glyph}
            </span>
            <span className="type-name">{t}</span>
            <span className="type-help">{TYPE_INFO[t].help}</span>
          </label>
        ))}
      </div>
    </fieldset>
  );
}
