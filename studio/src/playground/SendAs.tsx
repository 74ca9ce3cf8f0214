// Whose request the playground sends: the signed-in credential, nobody
// (anonymous), or another token or API key of this or another tenant. A
// tenant's API has no way for its admin to mint a user's token yet
// (cot.issue_token is for the platform role); docs/studio.md says how to get one.
import { useId } from 'react';

export type As = { mode: 'me' } | { mode: 'anon' } | { mode: 'token'; secret: string };

export function SendAs({ value, onChange }: { value: As; onChange: (a: As) => void }) {
  const id = useId();
  return (
    <fieldset className="send-as">
      <legend>Send as</legend>
      <label className="check">
        <input type="radio" name={`${id}-as`} checked={value.mode === 'me'} onChange={() => onChange({ mode: 'me' })} />
        me (the credential I signed in with)
      </label>
      <label className="check">
        <input type="radio" name={`${id}-as`} checked={value.mode === 'anon'} onChange={() => onChange({ mode: 'anon' })} />
        nobody (no credential)
      </label>
      <label className="check">
        <input type="radio" name={`${id}-as`} checked={value.mode === 'token'} onChange={() => onChange({ mode: 'token', secret: '' })} />
        another token or API key (a user with a chosen <code>sub</code>, anon, another tenant)
      </label>
      {value.mode === 'token' && (
        <>
          <label htmlFor={`${id}-secret`}>Token or API key to send</label>
          <textarea id={`${id}-secret`} rows={3} value={value.secret} onChange={(e) => onChange({ mode: 'token', secret: e.target.value })} />
          <span className="help">
            Mint one with <code>cot.issue_token('&lt;tenant&gt;', 'user', '&lt;sub&gt;', 900)</code> or the platform API's{' '}
            <code>/rpc/issue_token</code>. It is used for this request only and not stored.
          </span>
        </>
      )}
    </fieldset>
  );
}
