import { useState, type FormEvent } from 'react';
import { Api, ApiError, credentialOf, type Credential } from '../api/client';

interface Props {
  tenant: string;
  /** Why the studio came back here (an expired token), if it did. */
  notice?: string | null;
  onSignedIn: (c: Credential) => void;
}

/** Sign in with a tenant admin token or an admin API key. The secret is
 * checked by listing the entities: only the tenant's admins may. */
export function SignIn({ tenant, notice, onSignedIn }: Props) {
  const [secret, setSecret] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(e: FormEvent) {
    e.preventDefault();
    const c = credentialOf(secret);
    if (!c.secret) return;
    setBusy(true);
    setError(null);
    try {
      await new Api(c).entities();
      onSignedIn(c);
    } catch (err) {
      if (err instanceof ApiError && (err.status === 401 || err.status === 403)) {
        setError(`This token or key is not an admin of ${tenant} (${err.message}).`);
      } else {
        setError(err instanceof Error ? err.message : String(err));
      }
    } finally {
      setBusy(false);
    }
  }

  return (
    <main className="signin" id="main">
      <h1>Cot Studio</h1>
      <p>
        Tenant <strong>{tenant}</strong>. Sign in with an admin token (a JWT with the role{' '}
        <code>cot_{tenant}_admin</code>) or an admin API key. It is kept for this browser tab only.
      </p>
      {notice && (
        <p role="status" className="banner">
          {notice}
        </p>
      )}
      <form onSubmit={submit}>
        <label htmlFor="secret">Admin token or API key</label>
        <textarea
          id="secret"
          rows={4}
          value={secret}
          onChange={(e) => setSecret(e.target.value)}
          autoComplete="off"
          spellCheck={false}
        />
        {error && (
          <p role="alert" className="error">
            {error}
          </p>
        )}
        <button type="submit" className="primary" disabled={busy || !secret.trim()}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}
