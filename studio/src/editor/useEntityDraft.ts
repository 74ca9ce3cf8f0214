import { useCallback, useEffect, useRef, useState } from 'react';
import { ApiError, type Api } from '../api/client';
import type { EntityDef, Violation } from '../api/types';
import { clearDraft, loadDraft, saveDraft } from './drafts';

const EMPTY: EntityDef = { name: '', fields: [], access: {} };
// Definitions compared by content: key order and keys holding undefined
// (an option cleared in the drawer) do not make a draft.
function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (v && typeof v === 'object') {
    return Object.fromEntries(
      Object.entries(v as Record<string, unknown>)
        .filter(([, x]) => x !== undefined)
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([k, x]) => [k, canonical(x)]),
    );
  }
  return v;
}
export const same = (a: unknown, b: unknown) => JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));

/** The stored definition (null for a new entity), the working copy, and the
 * draft kept in localStorage while they differ. */
export function useEntityDraft(api: Api, tenant: string, name: string | null) {
  const [original, setOriginal] = useState<EntityDef | null>(null);
  const [def, setDefState] = useState<EntityDef | null>(null);
  const [restoredAt, setRestoredAt] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);

  const load = useCallback(async () => {
    setError(null);
    try {
      const stored = name ? await api.entity(name) : null;
      const draft = loadDraft(tenant, name);
      setOriginal(stored);
      if (draft && !same(draft.def, stored ?? EMPTY)) {
        setDefState(draft.def);
        setRestoredAt(draft.savedAt);
      } else {
        setDefState(stored ?? EMPTY);
        setRestoredAt(null);
      }
    } catch (e) {
      setError(e);
    }
  }, [api, tenant, name]);

  useEffect(() => {
    void load();
  }, [load]);

  const setDef = useCallback(
    (next: EntityDef) => {
      setDefState(next);
      if (same(next, original ?? EMPTY)) clearDraft(tenant, name);
      else saveDraft(tenant, name, next, original?.version ?? null);
    },
    [original, tenant, name],
  );

  const discard = useCallback(() => {
    clearDraft(tenant, name);
    setRestoredAt(null);
    setDefState(original ?? EMPTY);
  }, [original, tenant, name]);

  /** After a save: the draft goes, the stored definition is the new one. */
  const saved = useCallback(
    (stored: EntityDef) => {
      clearDraft(tenant, name);
      setRestoredAt(null);
      setOriginal(stored);
      setDefState(stored);
    },
    [tenant, name],
  );

  const dirty = def != null && !same(def, original ?? EMPTY);
  return { original, def, setDef, discard, saved, dirty, restoredAt, error, reload: load };
}

/** Cot's problems with the working definition, checked as it changes (after
 * a pause in typing), before anything is saved: validate_entity for a new
 * entity; plan_entity for a stored one (its errors carry the pointers in
 * DETAIL, and its `refused` says which rows a change would fail). */
export function useLiveCheck(api: Api, def: EntityDef | null, isNew: boolean, dirty: boolean, delayMs = 350) {
  const [problems, setProblems] = useState<Violation[]>([]);
  const [checking, setChecking] = useState(false);
  const seq = useRef(0);
  useEffect(() => {
    if (!def) return;
    const mine = ++seq.current;
    // The stored definition as it is has nothing to report (and its plan
    // would count rows for nothing).
    if (!isNew && !dirty) {
      setProblems([]);
      setChecking(false);
      return;
    }
    setChecking(true);
    const timer = setTimeout(async () => {
      let found: Violation[];
      try {
        found = isNew ? await api.validate(def) : (await api.plan(def)).refused ?? [];
      } catch (e) {
        found = e instanceof ApiError ? e.violations() : [{ pointer: '', message: String(e) }];
      }
      if (mine === seq.current) {
        setProblems(found);
        setChecking(false);
      }
    }, delayMs);
    return () => clearTimeout(timer);
  }, [api, def, isNew, dirty, delayMs]);
  return { problems, checking };
}
