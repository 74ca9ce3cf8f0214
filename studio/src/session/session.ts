// The signed-in credential lives in sessionStorage: it is gone when the
// browser tab closes, and other tabs (other tenants) never see it.
import { createContext, useContext } from 'react';
import { Api, credentialOf, type Credential } from '../api/client';

const KEY = 'cot-studio:credential';

export function loadCredential(): Credential | null {
  const text = sessionStorage.getItem(KEY);
  return text ? credentialOf(text) : null;
}

export function saveCredential(c: Credential | null): void {
  if (c) sessionStorage.setItem(KEY, c.secret);
  else sessionStorage.removeItem(KEY);
}

/** The claims of a JWT, read without checking it (the server checks). */
export function claimsOf(c: Credential): Record<string, unknown> | null {
  if (c.kind !== 'token') return null;
  const part = c.secret.split('.')[1];
  if (!part) return null;
  try {
    return JSON.parse(atob(part.replace(/-/g, '+').replace(/_/g, '/'))) as Record<string, unknown>;
  } catch {
    return null;
  }
}

export interface Session {
  tenant: string;
  api: Api;
  who: string;
}

export const SessionContext = createContext<Session | null>(null);

export function useSession(): Session {
  const s = useContext(SessionContext);
  if (!s) throw new Error('useSession outside a signed-in studio');
  return s;
}

/** localStorage keys of this tenant's drafts and diagram positions. */
export function storageKey(tenant: string, ...parts: string[]): string {
  return ['cot-studio', tenant, ...parts].join(':');
}
