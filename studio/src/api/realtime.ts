// A minimal client of cot-realtime (docs/realtime.md): the Supabase Realtime
// protocol (Phoenix channels, JSON objects, vsn 1.0.0) over one WebSocket,
// one channel with a postgres_changes binding per entity. The studio needs
// only this much, so it does not take @supabase/realtime-js as a dependency.

export interface LiveChange {
  /** The change's position in the tenant's log. */
  position?: number;
  schema: string;
  table: string;
  commit_timestamp: string;
  type: 'INSERT' | 'UPDATE' | 'DELETE';
  record: Record<string, unknown>;
  old_record: Record<string, unknown>;
}

export type LiveStatus =
  | { state: 'connecting' }
  | { state: 'subscribed' }
  | { state: 'error'; message: string }
  | { state: 'closed'; message?: string };

interface Message {
  topic: string;
  event: string;
  payload: Record<string, unknown>;
  ref: string | null;
}

const HEARTBEAT_MS = 25_000;

/** Subscribes to every change of `tables` in `tenant`; returns a function that closes it. */
export function subscribeChanges(
  url: string,
  accessToken: string | null,
  tenant: string,
  tables: string[],
  onChange: (c: LiveChange) => void,
  onStatus: (s: LiveStatus) => void,
): () => void {
  const ws = new WebSocket(url);
  let ref = 0;
  const topic = `realtime:studio-${Date.now().toString(36)}`;
  const send = (event: string, payload: Record<string, unknown>, t = topic) =>
    ws.send(JSON.stringify({ topic: t, event, payload, ref: String(++ref), join_ref: t === topic ? '1' : undefined }));
  let beat: ReturnType<typeof setInterval> | undefined;
  let closedByUs = false;
  onStatus({ state: 'connecting' });
  ws.onopen = () => {
    send('phx_join', {
      config: { postgres_changes: tables.map((table) => ({ event: '*', schema: tenant, table })) },
      ...(accessToken ? { access_token: accessToken } : {}),
    });
    beat = setInterval(() => send('heartbeat', {}, 'phoenix'), HEARTBEAT_MS);
  };
  ws.onmessage = (e: MessageEvent<string>) => {
    let m: Message;
    try {
      m = JSON.parse(e.data) as Message;
    } catch {
      return;
    }
    if (m.topic !== topic) return;
    if (m.event === 'phx_reply' && m.ref === '1') {
      const status = m.payload.status;
      const response = (m.payload.response ?? {}) as { reason?: string };
      onStatus(status === 'ok' ? { state: 'subscribed' } : { state: 'error', message: response.reason ?? String(status) });
    } else if (m.event === 'postgres_changes') {
      const data = m.payload.data as LiveChange | undefined;
      if (data) onChange(data);
    } else if (m.event === 'system' && m.payload.status === 'error') {
      onStatus({ state: 'error', message: String(m.payload.message ?? 'error') });
    } else if (m.event === 'phx_close') {
      onStatus({ state: 'closed' });
    }
  };
  ws.onclose = (e) => {
    clearInterval(beat);
    if (!closedByUs) onStatus({ state: 'closed', message: e.reason || `the connection closed (${e.code})` });
  };
  return () => {
    closedByUs = true;
    clearInterval(beat);
    ws.close();
  };
}
