import { ApiError } from '../api/client';

/** An error as the user should read it: Cot's message, its SQLSTATE and hint. */
export function ErrorText({ error }: { error: unknown }) {
  if (error instanceof ApiError) {
    return (
      <div role="alert" className="error">
        <p>
          {error.message} {error.code && <code>{error.code}</code>}
        </p>
        {error.details && <pre className="details">{error.details}</pre>}
        {error.hint && <p className="hint">{error.hint}</p>}
      </div>
    );
  }
  return (
    <p role="alert" className="error">
      {error instanceof Error ? error.message : String(error)}
    </p>
  );
}
