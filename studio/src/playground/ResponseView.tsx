// The answer of a playground request: status, time, headers, body.
import type { RawResponse } from '../api/client';

function pretty(body: string): string {
  try {
    return JSON.stringify(JSON.parse(body), null, 2);
  } catch {
    return body;
  }
}

export function ResponseView({ res }: { res: RawResponse }) {
  return (
    <section className="response" aria-labelledby="response-title">
      <h2 id="response-title">Response</h2>
      <p>
        <strong className={res.status < 300 ? 'ok' : 'bad'} data-status={res.status}>
          {res.status} {res.statusText}
        </strong>{' '}
        <span className="status">in {res.ms} ms</span>
      </p>
      <details>
        <summary>Headers ({res.headers.length})</summary>
        <table className="headers">
          <tbody>
            {res.headers.map(([k, v]) => (
              <tr key={k}>
                <th scope="row">{k}</th>
                <td>{v}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </details>
      <pre className="code response-body" tabIndex={0} aria-label="Response body">
        {pretty(res.body)}
      </pre>
    </section>
  );
}
