//! `cot.uuid_generate_v7()`: time-ordered ids, so new rows land at the right
//! edge of the primary-key index instead of all over it (PostgreSQL 15 has no
//! uuidv7 of its own).

use pgrx::prelude::*;

/// A new UUID version 7 (RFC 9562): 48 bits of Unix milliseconds, then random
/// bits, with a counter keeping ids from one backend in order within a millisecond.
#[pg_extern(volatile, parallel_safe)]
fn uuid_generate_v7() -> pgrx::Uuid {
    pgrx::Uuid::from_bytes(*uuid::Uuid::now_v7().as_bytes())
}
