// Edits survive a reload: the working definition of each entity is kept in
// localStorage, per tenant, until it is saved or discarded.
import type { EntityDef } from '../api/types';
import { storageKey } from '../session/session';

export const NEW_ENTITY = '(new)';

export interface Draft {
  def: EntityDef;
  /** The version the edit started from (null for a new entity). */
  base: number | null;
  savedAt: string;
}

const key = (tenant: string, name: string | null) => storageKey(tenant, 'draft', name ?? NEW_ENTITY);

export function loadDraft(tenant: string, name: string | null): Draft | null {
  try {
    const text = localStorage.getItem(key(tenant, name));
    return text ? (JSON.parse(text) as Draft) : null;
  } catch {
    return null;
  }
}

export function saveDraft(tenant: string, name: string | null, def: EntityDef, base: number | null): void {
  const d: Draft = { def, base, savedAt: new Date().toISOString() };
  localStorage.setItem(key(tenant, name), JSON.stringify(d));
}

export function clearDraft(tenant: string, name: string | null): void {
  localStorage.removeItem(key(tenant, name));
}

export function hasDraft(tenant: string, name: string): boolean {
  return localStorage.getItem(key(tenant, name)) != null;
}
