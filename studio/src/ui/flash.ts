// A message that outlives one screen change (a new entity's editor makes way
// for the stored entity's editor, which shows that it was saved).
let pending: string | null = null;

export function flash(message: string): void {
  pending = message;
}

export function takeFlash(): string | null {
  const m = pending;
  pending = null;
  return m;
}
