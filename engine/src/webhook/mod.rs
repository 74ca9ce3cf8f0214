//! Webhooks: the decisions the delivery worker and the SQL functions make,
//! with no Postgres and no network in them, so each is unit-tested.
//!
//! - [`events`]: the event patterns a webhook subscribes to
//!   (`orders.insert`, `orders.*`, `*`) and which changes they match;
//! - [`options`]: the options of `cot.create_webhook` / `cot.update_webhook`
//!   and `cot.webhook_deliveries`, validated, every problem at once;
//! - [`target`]: the URL rules and the address classes refused as targets
//!   (loopback, private, link-local, ...: SSRF);
//! - [`signature`]: Standard Webhooks secrets (`whsec_...`) and signatures;
//! - [`payload`]: the JSON body sent for one change;
//! - [`retry`]: what an attempt's outcome means (delivered, retried when,
//!   failed), exponential backoff with full jitter, `Retry-After`.

pub mod events;
pub mod options;
pub mod payload;
pub mod retry;
pub mod signature;
pub mod target;
