// The webhook documents of cot.webhooks and cot.webhook_deliveries (docs/webhooks.md).

export interface WebhookOptions {
  url: string;
  events: string[];
  description?: string | null;
  enabled?: boolean;
  headers?: Record<string, string>;
}

export interface Webhook {
  id: string;
  url: string;
  events: string[];
  enabled: boolean;
  description: string | null;
  /** Header names only; the values are never read back. */
  headers?: string[];
  pending?: number;
}

export type DeliveryState = 'pending' | 'delivered' | 'failed';

export interface Delivery {
  id: string;
  webhook_id: string;
  change_id: number;
  event: string;
  record_id: string | null;
  state: DeliveryState;
  attempts: number;
  next_attempt_at: string | null;
  last_attempt_at: string | null;
  last_status: number | null;
  last_error: string | null;
  latency_ms: number | null;
  created_at: string;
  delivered_at: string | null;
}
