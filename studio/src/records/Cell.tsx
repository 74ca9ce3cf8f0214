/** A value in the records table: JSON and arrays compact, long text cut. */
export function Cell({ value }: { value: unknown }) {
  if (value === null || value === undefined) return <span className="null">null</span>;
  if (typeof value === 'object') {
    const text = JSON.stringify(value);
    return <code title={text}>{text.length > 60 ? `${text.slice(0, 60)}…` : text}</code>;
  }
  const text = String(value);
  return <span title={text.length > 80 ? text : undefined}>{text.length > 80 ? `${text.slice(0, 80)}…` : text}</span>;
}
