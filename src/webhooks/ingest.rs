//! Turning the change log into deliveries: for each tenant with enabled
//! webhooks, read `cot.changes` from the furthest-behind webhook's cursor,
//! make a delivery for every change each webhook's events match, and move
//! each cursor, all in the caller's transaction: either the deliveries and
//! the cursors are both stored, or neither is (a change is never skipped,
//! and `ON CONFLICT` makes a repeated read harmless).

use super::queue::{self, Subscriber};
use cot_engine::webhook::events::{event_type, matches_any, Pattern};
use cot_engine::webhook::payload::{body, Page};
use serde_json::{json, Value};

/// Changes read per call of `cot.changes`.
const PAGE: i32 = 500;
/// Pages per tenant per round: a tenant with a large backlog does not hold
/// the others (nor one transaction) for long.
const PAGES_PER_ROUND: usize = 4;

/// Reads `slug`'s new changes into deliveries; returns how many changes
/// were read (0: nothing new).
pub fn tenant(slug: &str) -> usize {
    let subscribers: Vec<(Subscriber, Vec<Pattern>)> = queue::lock_subscribers(slug)
        .into_iter()
        .map(|s| {
            let patterns = s.events.iter().filter_map(|e| Pattern::parse(e).ok()).collect();
            (s, patterns)
        })
        .collect();
    let Some(mut after) = subscribers.iter().map(|(s, _)| s.position).min() else {
        return 0;
    };
    let mut positions: Vec<i64> = subscribers.iter().map(|(s, _)| s.position).collect();
    let mut read = 0;
    for _ in 0..PAGES_PER_ROUND {
        let text = queue::changes(slug, after, PAGE);
        let page: Page = match serde_json::from_str(&text) {
            Ok(p) => p,
            Err(e) => panic!("cot.changes({slug}) answered something unreadable: {e}"),
        };
        let mut rows = Vec::new();
        for change in &page.changes {
            let mut payload: Option<Value> = None;
            for (i, (s, patterns)) in subscribers.iter().enumerate() {
                if change.id <= positions[i] || !matches_any(patterns, &change.entity, &change.event_op()) {
                    continue;
                }
                let payload = payload.get_or_insert_with(|| body(slug, change));
                rows.push(json!({
                    "id": uuid::Uuid::now_v7(),
                    "webhook_id": s.id,
                    "change_id": change.id,
                    "record_id": change.record_id,
                    "event": event_type(&change.entity, &change.event_op()),
                    "payload": payload,
                }));
            }
        }
        if !rows.is_empty() {
            queue::insert_deliveries(Value::Array(rows));
        }
        let next = page.cursor(after);
        for p in positions.iter_mut() {
            *p = (*p).max(next);
        }
        read += page.changes.len();
        let full = page.changes.len() >= PAGE as usize;
        after = next;
        if !full {
            break;
        }
    }
    let moved: Vec<Value> = subscribers
        .iter()
        .zip(&positions)
        .filter(|((s, _), p)| **p > s.position)
        .map(|((s, _), p)| json!({"id": s.id, "position": p}))
        .collect();
    if !moved.is_empty() {
        queue::advance(Value::Array(moved));
    }
    read
}
