// Whose request the playground sends: the signed-in credential, nobody
// (anonymous), a user of this tenant with a chosen `sub` (a 5-minute token
// minted by /rpc/issue_token, which the tenant's admin may call), or another
// token or API key of this or another tenant.
import { useId } from 'react';

export type As = { mode: 'me' } | { mode: 'anon' } | { mode: 'user'; sub: string } | { mode: 'token'; secret: string };

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
        <input type="radio" name={`${id}-as`} checked={value.mode === 'user'} onChange={() => onChange({ mode: 'user', sub: 'user-1' })} />
        a user of this tenant (a token minted for this request)
      </label>
      {value.mode === 'user' && (
        <>
          <label htmlFor={`${id}-sub`}>The user's sub</label>
          <input id={`${id}-sub`} value={value.sub} onChange={(e) => onChange({ mode: 'user', sub: e.target.value })} />
        </>
      )}
      <label className="check">
        <input type="radio" name={`${id}-as`} checked={value.mode === 'token'} onChange={() => onChange({ mode: 'token', secret: '' })} />
        another token or API key (of this or another tenant)
      </label>
      {value.mode === 'token' && (
        <>
          <label htmlFor={`${id}-secret`}>Token or API key to send</label>
          <textarea id={`${id}-secret`} rows={3} value={value.secret} onChange={(e) => onChange({ mode: 'token', secret: e.target.value })} />
          <span className="help">
            It is used for this request only and not stored.
          </span>
        </>
      )}
    </fieldset>
  );
}
