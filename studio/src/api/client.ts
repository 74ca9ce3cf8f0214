// The one place that talks to the tenant's HTTP API: every URL and header of
// the studio is built here. The studio is served from the tenant's own origin
// (`<slug>.<base domain>`), whose front door sends /rest/v1/ to PostgREST and
// forces the tenant's profile, so no request names a schema.
import type {
  Bundle, BundlePlan, BundleResult, EntityDef, EntitySummary, Plan, Violation,
} from './types';

export const API_BASE = '/rest/v1';

/** A token (JWT) or a Cot API key (`cot_...`), as the user pasted it. */
export interface Credential {
  kind: 'token' | 'apikey';
  secret: string;
}

export function credentialOf(text: string): Credential {
  const secret = text.trim();
  return { kind: secret.startsWith('cot_') ? 'apikey' : 'token', secret };
}

/** The tenant the page's host names: `acme` for acme.localhost:8080. */
export function tenantFromHost(hostname: string): string | null {
  const parts = hostname.split('.');
  if (parts.length < 2) return null;
  const slug = parts[0] ?? '';
  return /^[a-z][a-z0-9_]{0,29}$/.test(slug) ? slug : null;
}

/** An error answer of PostgREST: Cot's SQLSTATE in `code`, the pointers in `details`. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string | null,
    message: string,
    readonly details: string | null,
    readonly hint: string | null,
  ) {
    super(message);
    this.name = 'ApiError';
  }

  /** The violations in DETAIL, one `<pointer>: <message>` a line (docs/definition-reference.md). */
  violations(): Violation[] {
    const lines = (this.details ?? '').split('\n').filter((l) => l.trim() !== '');
    const out: Violation[] = [];
    for (const line of lines) {
      const m = /^(\/[^:]*|): (.*)$/.exec(line);
      if (m) out.push({ pointer: m[1] ?? '', message: m[2] ?? '', sqlstate: this.code ?? undefined });
    }
    if (out.length === 0) {
      out.push({ pointer: '', message: this.message, sqlstate: this.code ?? undefined, hint: this.hint });
    } else if (out[0]) {
      out[0].hint = this.hint;
    }
    return out;
  }
}

export class Api {
  /** `onUnauthorized`: called on a 401 (an expired token, a revoked key), so
   * the studio can ask to sign in again; drafts are kept meanwhile. */
  constructor(
    private readonly credential: Credential,
    private readonly onUnauthorized?: (e: ApiError) => void,
  ) {}

  private headers(json: boolean): Record<string, string> {
    const h: Record<string, string> = { Accept: 'application/json' };
    if (this.credential.kind === 'apikey') h['x-api-key'] = this.credential.secret;
    else h.Authorization = `Bearer ${this.credential.secret}`;
    if (json) h['Content-Type'] = 'application/json';
    return h;
  }

  private async call<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
    const res = await fetch(API_BASE + path, {
      method,
      headers: this.headers(body !== undefined),
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    let json: unknown = undefined;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    if (!res.ok) {
      const e = (json ?? {}) as { code?: string; message?: string; details?: string; hint?: string };
      const err = new ApiError(
        res.status,
        e.code ?? null,
        e.message ?? (text || `HTTP ${res.status}`),
        e.details ?? null,
        e.hint ?? null,
      );
      if (res.status === 401) this.onUnauthorized?.(err);
      throw err;
    }
    return json as T;
  }

  private rpc<T>(name: string, body: Record<string, unknown> = {}): Promise<T> {
    return this.call<T>('POST', `/rpc/${name}`, body);
  }

  entities(): Promise<EntitySummary[]> {
    return this.call('GET', '/rpc/entities?order=name');
  }
  entity(name: string): Promise<EntityDef> {
    return this.rpc('entity', { name });
  }
  validate(definition: EntityDef): Promise<Violation[]> {
    return this.rpc('validate_entity', { definition });
  }
  plan(definition: EntityDef, options: Record<string, unknown> = {}): Promise<Plan> {
    return this.rpc('plan_entity', { definition, options });
  }
  create(definition: EntityDef): Promise<EntityDef> {
    return this.rpc('create_entity', { definition });
  }
  alter(definition: EntityDef, options: Record<string, unknown> = {}): Promise<EntityDef> {
    return this.rpc('alter_entity', { definition, options });
  }
  drop(name: string, options: Record<string, unknown> = {}): Promise<void> {
    return this.rpc('drop_entity', { name, options });
  }
  exportSchema(): Promise<Bundle> {
    return this.call('GET', '/rpc/export_schema');
  }
  planBundle(bundle: unknown, options: Record<string, unknown> = {}): Promise<BundlePlan> {
    return this.rpc('apply_schema', { bundle, options: { ...options, dry_run: true } });
  }
  applyBundle(bundle: unknown, options: Record<string, unknown> = {}): Promise<BundleResult> {
    return this.rpc('apply_schema', { bundle, options });
  }
}
