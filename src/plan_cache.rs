//! The kept plans of `cot.query`'s page statements, per backend, by SQL text.
//!
//! The text holds no values, so every call of one query shape reuses one
//! plan; but every distinct shape (other fields, embeds, page sizes, offsets)
//! is a distinct text, and a caller can send as many as it likes. A kept
//! plan held 50-300 KB here (its query tree over the views, and its generic
//! plan); 2,000 distinct queries left a backend holding 60 MB of them. So
//! the cache is bounded by count ([`MAX_PLANS`]) and by the memory the plans
//! hold ([`MAX_PLAN_BYTES`], measured from their memory contexts), and drops
//! the least recently used plan (`SPI_freeplan`) to stay within both.

use pgrx::prelude::*;
use pgrx::PgList;
use std::cell::RefCell;
use std::collections::HashMap;

/// Most plans kept per backend.
pub const MAX_PLANS: usize = 100;
/// Most memory the kept plans of a backend may hold, in bytes.
pub const MAX_PLAN_BYTES: usize = 16 * 1024 * 1024;

struct Kept {
    plan: pg_sys::SPIPlanPtr,
    /// Memory the plan held when last measured.
    bytes: usize,
    /// When it was last used (a tick of [`Plans::clock`]).
    used: u64,
}

#[derive(Default)]
struct Plans {
    by_sql: HashMap<String, Kept>,
    /// The sum of `bytes`.
    bytes: usize,
    clock: u64,
}

thread_local! {
    static PLANS: RefCell<Plans> = RefCell::new(Plans::default());
}

/// The memory `plan` holds: its plan sources (query trees) and their generic
/// plans, if built.
///
/// # Safety
/// `plan` must be a live plan.
unsafe fn plan_bytes(plan: pg_sys::SPIPlanPtr) -> usize {
    // SAFETY: the caller's promise; a live plan's sources and their contexts
    // are valid, and measuring them changes nothing.
    unsafe {
        let sources = PgList::<pg_sys::CachedPlanSource>::from_pg(pg_sys::SPI_plan_get_plan_sources(plan));
        sources
            .iter_ptr()
            .map(|s| {
                let generic = (*s).gplan;
                pg_sys::MemoryContextMemAllocated((*s).context, true)
                    + if generic.is_null() {
                        0
                    } else {
                        pg_sys::MemoryContextMemAllocated((*generic).context, true)
                    }
            })
            .sum()
    }
}

impl Plans {
    fn tick(&mut self) -> u64 {
        self.clock += 1;
        self.clock
    }

    /// Frees the least recently used plan other than `keep`'s; false when
    /// there is none.
    fn evict_one(&mut self, keep: Option<&str>) -> bool {
        let Some(sql) = self
            .by_sql
            .iter()
            .filter(|(sql, _)| Some(sql.as_str()) != keep)
            .min_by_key(|(_, k)| k.used)
            .map(|(sql, _)| sql.clone())
        else {
            return false;
        };
        let gone = self.by_sql.remove(&sql).expect("just found");
        self.bytes -= gone.bytes;
        // SAFETY: a plan this cache kept; no one else holds it, and no
        // statement of this backend is running it (cot.query's statements
        // read views only and never call cot.query).
        unsafe { pg_sys::SPI_freeplan(gone.plan) };
        true
    }
}

/// The kept plan of `sql`, or the one `prepare` makes (kept, and counted
/// against [`MAX_PLANS`]).
///
/// # Safety
/// SPI must be connected (for `prepare`).
pub unsafe fn get_or_prepare(sql: &str, prepare: impl FnOnce() -> pg_sys::SPIPlanPtr) -> pg_sys::SPIPlanPtr {
    let found = PLANS.with(|plans| {
        let mut plans = plans.borrow_mut();
        let now = plans.tick();
        if let Some(kept) = plans.by_sql.get_mut(sql) {
            kept.used = now;
            return Some(kept.plan);
        }
        while plans.by_sql.len() >= MAX_PLANS && plans.evict_one(None) {}
        None
    });
    if let Some(plan) = found {
        return plan;
    }
    // An error while preparing unwinds out of here with nothing kept.
    let plan = prepare();
    // SAFETY: a plan just prepared under the caller's SPI connection.
    let bytes = unsafe {
        pg_sys::SPI_keepplan(plan);
        plan_bytes(plan)
    };
    PLANS.with(|plans| {
        let mut plans = plans.borrow_mut();
        let used = plans.tick();
        plans.bytes += bytes;
        plans.by_sql.insert(sql.to_string(), Kept { plan, bytes, used });
    });
    plan
}

/// After a run of `sql`'s plan: measures it again (its generic plan may be
/// new) and frees the least recently used plans until the cache is within
/// [`MAX_PLAN_BYTES`], `sql`'s own last, so that a plan larger than the whole
/// budget is not kept.
pub fn after_run(sql: &str) {
    PLANS.with(|plans| {
        let mut plans = plans.borrow_mut();
        let Some(kept) = plans.by_sql.get_mut(sql) else {
            return;
        };
        let (old, plan) = (kept.bytes, kept.plan);
        // SAFETY: a plan this cache keeps.
        let new = unsafe { plan_bytes(plan) };
        kept.bytes = new;
        plans.bytes = plans.bytes - old + new;
        while plans.bytes > MAX_PLAN_BYTES && plans.evict_one(Some(sql)) {}
        if plans.bytes > MAX_PLAN_BYTES {
            plans.evict_one(None);
        }
    })
}
