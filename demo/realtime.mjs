// The realtime part of the demo (scripts/demo.sh): @supabase/realtime-js,
// unmodified, subscribes to acme's orders on cot-realtime; an order is then
// placed over HTTP through PostgREST, and the change the subscription
// receives is printed.
//
//   node demo/realtime.mjs REALTIME_URL API_URL TOKEN

import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(path.resolve(import.meta.dirname, '../tests/clients/package.json'));
const { RealtimeClient } = require('@supabase/realtime-js');
const WebSocket = require('ws');

const [realtimeUrl, api, token] = process.argv.slice(2);
const fail = (why) => {
  console.error(`[demo] ${why}`);
  process.exit(1);
};
setTimeout(() => fail('no change arrived within 15 s'), 15_000).unref();

const client = new RealtimeClient(realtimeUrl, { params: { apikey: token }, transport: WebSocket });
const received = new Promise((resolve) => {
  client
    .channel('orders')
    .on('postgres_changes', { event: '*', schema: 'acme', table: 'orders' }, resolve)
    .subscribe((status, err) => {
      console.log(`subscription: ${status}${err ? ` (${err.message})` : ''}`);
      if (status === 'SUBSCRIBED') placeOrder();
      else if (status === 'CHANNEL_ERROR') fail(err?.message ?? status);
    });
});

async function placeOrder() {
  console.log(`POST ${api}/orders  (Content-Profile: acme, the same user's token)`);
  const res = await fetch(`${api}/orders`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${token}`, 'Content-Profile': 'acme', 'Content-Type': 'application/json' },
    body: JSON.stringify({ title: 'Tabulating machine', total: 75 }),
  });
  console.log(`HTTP ${res.status}`);
}

const change = await received;
console.log('received over WebSocket:');
console.log(JSON.stringify({ eventType: change.eventType, schema: change.schema, table: change.table,
  commit_timestamp: change.commit_timestamp, new: change.new }, null, 2));
client.disconnect();
process.exit(0);
