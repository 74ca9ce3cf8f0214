// The one place that talks to the tenant's HTTP API: every URL and header of
// the studio is built here. The studio is served from the tenant's own origin
// (`<slug>.<base domain>`), whose front door sends /rest/v1/ to PostgREST and
// forces the tenant's profile, so no request names a schema.
import type {
  Bundle, BundlePlan, BundleResult, EntityDef, EntitySummary, Plan, Violation,
} from './types';
import type { CatalogModule, InstallPlan, InstalledModule, UninstallPlan, UpgradePlan } from './modules';
import type { HistoryEntry, QueryDoc, QueryPage, RecordRow } from './records';
import type { Delivery, Webhook, WebhookOptions } from './webhooks';
import type { Transition } from '../records/workflow';
import { subscribeChanges, type LiveChange, type LiveStatus } from './realtime';

export const API_BASE = '/rest/v1';
export const REALTIME_BASE = '/realtime/v1';

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
    const h: Record<string, string> = { Accept: 'application/json', ...authHeaders(this.credential) };
    if (json) h['Content-Type'] = 'application/json';
    return h;
  }

  private async call<T>(method: Method, path: string, body?: unknown, extra: Record<string, string> = {}): Promise<T> {
    const res = await fetch(API_BASE + path, {
      method,
      headers: { ...this.headers(body !== undefined), ...extra },
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
    if (extra.Accept === 'text/plain') return text as T;
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

  modules(): Promise<CatalogModule[]> {
    return this.call('GET', '/rpc/modules');
  }
  installedModules(): Promise<InstalledModule[]> {
    return this.call('GET', '/rpc/installed_modules');
  }
  planInstall(name: string, version: string): Promise<InstallPlan> {
    return this.rpc('install_module', { name, version, options: { dry_run: true } });
  }
  installModule(name: string, version: string, samples: boolean): Promise<unknown> {
    return this.rpc('install_module', { name, version, options: { samples } });
  }
  planUpgrade(name: string, version: string): Promise<UpgradePlan> {
    return this.rpc('plan_module_upgrade', { name, version });
  }
  upgradeModule(name: string, version: string, allowDataLoss: boolean): Promise<unknown> {
    return this.rpc('upgrade_module', { name, version, options: allowDataLoss ? { allow_data_loss: true } : {} });
  }
  planUninstall(name: string): Promise<UninstallPlan> {
    return this.rpc('uninstall_module', { name, options: { dry_run: true } });
  }
  uninstallModule(name: string, allowDataLoss: boolean): Promise<unknown> {
    return this.rpc('uninstall_module', { name, options: allowDataLoss ? { allow_data_loss: true } : {} });
  }

  /** One page of records through cot.query (docs/query.md), as the signed-in role. */
  query(entity: string, query: QueryDoc): Promise<QueryPage> {
    return this.rpc('query', { entity, query });
  }
  /** A new record through the entity's API view; the stored row comes back. */
  async insert(entity: string, row: RecordRow): Promise<RecordRow> {
    const rows = await this.call<RecordRow[]>('POST', `/${encodeURIComponent(entity)}`, row, RETURN_ROW);
    return rows[0] ?? row;
  }
  async update(entity: string, id: string, patch: RecordRow): Promise<RecordRow | null> {
    const rows = await this.call<RecordRow[]>('PATCH', `/${encodeURIComponent(entity)}?id=eq.${encodeURIComponent(id)}`, patch, RETURN_ROW);
    return rows[0] ?? null;
  }
  /** Deletes one record; resolves to how many rows the role could delete (0 or 1). */
  async remove(entity: string, id: string): Promise<number> {
    const rows = await this.call<RecordRow[]>('DELETE', `/${encodeURIComponent(entity)}?id=eq.${encodeURIComponent(id)}`, undefined, RETURN_ROW);
    return rows.length;
  }
  history(entity: string, id: string): Promise<HistoryEntry[]> {
    return this.rpc('history', { entity, id });
  }
  webhooks(): Promise<Webhook[]> {
    return this.rpc('webhooks');
  }
  /** The answer holds the webhook's `secret`, shown this once. */
  createWebhook(options: WebhookOptions): Promise<Webhook & { secret: string }> {
    return this.rpc('create_webhook', { options });
  }
  updateWebhook(id: string, options: Partial<WebhookOptions>): Promise<Webhook> {
    return this.rpc('update_webhook', { id, options });
  }
  deleteWebhook(id: string): Promise<boolean> {
    return this.rpc('delete_webhook', { id });
  }
  webhookDeliveries(options: { webhook?: string; state?: string; limit?: number }): Promise<Delivery[]> {
    return this.rpc('webhook_deliveries', { options });
  }
  replayWebhook(deliveryId: string): Promise<Delivery> {
    return this.rpc('replay_webhook', { delivery_id: deliveryId });
  }
  /** A short-lived token of this tenant's user (with `sub`) or anon role (admins only). */
  async issueToken(role: 'user' | 'anon', sub?: string): Promise<string> {
    const minted = await this.rpc<{ token: string }>('issue_token', { options: { role, sub: sub || null, ttl_seconds: 300 } });
    return minted.token;
  }
  /** The transitions the caller may take on a record now (cot.transitions). */
  transitions(entity: string, id: string): Promise<Transition[]> {
    return this.rpc('transitions', { entity, id });
  }
  /** Takes a transition by name (cot.transition); the record after it. */
  transition(entity: string, id: string, transition: string, note?: string): Promise<RecordRow> {
    return this.rpc('transition', { entity, id, transition, note: note || null });
  }
  /** The tenant's OpenAPI document, generated from the live definitions. */
  openapi(): Promise<OpenApiDoc> {
    return this.call('GET', '/rpc/openapi');
  }
  /** The postgrest-js types of the tenant (TypeScript source). */
  typescript(): Promise<string> {
    return this.call('GET', '/rpc/typescript', undefined, { Accept: 'text/plain' });
  }

  /** Every change of `tables` as the realtime server sends them to this
   * credential (the front door serves it at /realtime/v1/); returns a closer. */
  live(tenant: string, tables: string[], onChange: (c: LiveChange) => void, onStatus: (s: LiveStatus) => void): () => void {
    const scheme = window.location.protocol === 'https:' ? 'wss' : 'ws';
    const url = `${scheme}://${window.location.host}${REALTIME_BASE}/websocket?apikey=${encodeURIComponent(this.credential.secret)}&vsn=1.0.0`;
    const token = this.credential.kind === 'token' ? this.credential.secret : null;
    return subscribeChanges(url, token, tenant, tables, onChange, onStatus);
  }

  /** A request as the API playground writes it, sent with `as` (the signed-in
   * credential when undefined; none at all when null): the raw answer. */
  async send(req: RawRequest, as?: Credential | null): Promise<RawResponse> {
    const who = as === undefined ? this.credential : as;
    const headers: Record<string, string> = { Accept: 'application/json', ...(who ? authHeaders(who) : {}), ...req.headers };
    const hasBody = req.body !== undefined && req.body.trim() !== '' && req.method !== 'GET';
    if (hasBody) headers['Content-Type'] = 'application/json';
    const t0 = performance.now();
    const res = await fetch(requestUrl(req), { method: req.method, headers, body: hasBody ? req.body : undefined });
    const body = await res.text();
    return {
      status: res.status,
      statusText: res.statusText,
      headers: [...res.headers.entries()],
      body,
      ms: Math.round(performance.now() - t0),
    };
  }
}

type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE';
const RETURN_ROW = { Prefer: 'return=representation' };

function authHeaders(c: Credential): Record<string, string> {
  return c.kind === 'apikey' ? { 'x-api-key': c.secret } : { Authorization: `Bearer ${c.secret}` };
}

export interface RawRequest {
  method: Method;
  /** Below /rest/v1, starting with a slash: `/orders`, `/rpc/query`. */
  path: string;
  /** Without the `?`: `select=title&status=eq.paid`. */
  query: string;
  body?: string;
  headers?: Record<string, string>;
}

export interface RawResponse {
  status: number;
  statusText: string;
  headers: [string, string][];
  body: string;
  ms: number;
}

/** The URL the playground's request goes to (relative to the page's origin). */
export function requestUrl(req: Pick<RawRequest, 'path' | 'query'>): string {
  const path = req.path.startsWith('/') ? req.path : `/${req.path}`;
  const q = req.query.replace(/^\?/, '').trim();
  return API_BASE + path + (q ? `?${q}` : '');
}

/** The parts of an OpenAPI 3 document the docs screen reads. */
export interface OpenApiDoc {
  info: { title: string; version: string; description?: string };
  servers?: { url: string }[];
  tags?: { name: string; description?: string }[];
  paths: Record<string, Record<string, unknown>>;
  components: { schemas: Record<string, JsonSchema>; parameters?: Record<string, unknown> };
}

export interface JsonSchema {
  type?: string | string[];
  title?: string;
  description?: string;
  format?: string;
  enum?: unknown[];
  items?: JsonSchema;
  required?: string[];
  properties?: Record<string, JsonSchema>;
  readOnly?: boolean;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  default?: unknown;
}
