//! What opening a tenant's change log finds, kept per backend: the table's
//! oid, where each of its columns is, its indexes and its tenant, and the oid
//! of `cot.change_seq`. Looking these up and checking the log's shape on
//! every statement (catalog lookups by name, the tenant's names, the index
//! list) was about 5 µs of the 40 µs history added to a one-row insert
//! (bench/history.sh, docs/benchmarks.md).
//!
//! A kept entry is used only while no relcache invalidation touched the log,
//! its indexes or the sequence since it was made (or reset every entry): a
//! trigger, CHECK or index added by hand, a dropped log or extension, all
//! send one, and the next statement looks everything up and checks the shape
//! again. The invalidation callback only bumps a counter, so it never frees
//! what a statement in progress is using.

use pgrx::pg_sys::{self, Oid};
use std::cell::{Cell, RefCell};

/// A tenant's log as last found: see the module comment.
#[derive(Clone)]
pub(crate) struct Shape {
    pub namespace: Oid,
    pub slug: String,
    pub relid: Oid,
    /// The attribute index (0-based) of each of the log's columns.
    pub columns: [usize; 10],
    pub indexes: Vec<Oid>,
    /// The invalidation count when it was found.
    generation: u64,
}

thread_local! {
    static SHAPES: RefCell<Vec<Shape>> = const { RefCell::new(Vec::new()) };
    /// `cot.change_seq` and the count when it was found.
    static SEQUENCE: Cell<(Oid, u64)> = const { Cell::new((Oid::INVALID, u64::MAX)) };
    /// Every relation a kept entry depends on.
    static WATCHED: RefCell<Vec<Oid>> = const { RefCell::new(Vec::new()) };
    /// Bumped by any invalidation of a watched relation (or of all).
    static GENERATION: Cell<u64> = const { Cell::new(0) };
}

/// Most tenants' logs kept (a backend serving more starts over).
const MAX_KEPT: usize = 64;

/// Registers the relcache callback (once, when the library loads).
pub fn register_invalidation() {
    // SAFETY: registering a callback is allowed at load time; the callback
    // touches only this backend's thread-locals and never errors.
    unsafe { pg_sys::CacheRegisterRelcacheCallback(Some(on_relcache), pg_sys::Datum::from(0)) }
}

unsafe extern "C-unwind" fn on_relcache(_arg: pg_sys::Datum, relid: Oid) {
    // A callback during a lookup (the list borrowed) counts as a hit.
    let hit = relid == Oid::INVALID || WATCHED.with(|w| w.try_borrow().map_or(true, |w| w.contains(&relid)));
    if hit {
        GENERATION.with(|g| g.set(g.get() + 1));
    }
}

impl Shape {
    /// The invalidation count when it was found.
    pub(crate) fn generation(&self) -> u64 {
        self.generation
    }
}

/// The invalidation count now: take it before looking anything up, and
/// [`keep`] what was found with it.
pub(crate) fn generation() -> u64 {
    GENERATION.with(Cell::get)
}

/// The kept entry for the log in `namespace` (or of tenant `slug`), if no
/// invalidation has touched it since.
pub(crate) fn kept(namespace: Option<Oid>, slug: Option<&str>) -> Option<Shape> {
    let now = generation();
    SHAPES.with(|s| {
        s.borrow()
            .iter()
            .find(|e| Some(e.namespace) == namespace || Some(e.slug.as_str()) == slug)
            .filter(|e| e.generation == now)
            .cloned()
    })
}

/// Keeps `shape`, found with invalidation count `generation`, replacing any
/// entry for its namespace.
pub(crate) fn keep(
    namespace: Oid,
    slug: String,
    relid: Oid,
    columns: [usize; 10],
    indexes: Vec<Oid>,
    generation: u64,
) {
    SHAPES.with(|s| {
        let mut s = s.borrow_mut();
        s.retain(|e| e.namespace != namespace && e.generation == generation);
        if s.len() >= MAX_KEPT {
            s.clear();
        }
        s.push(Shape {
            namespace,
            slug,
            relid,
            columns,
            indexes,
            generation,
        });
    });
    watch();
}

/// Watches what the kept entries and the sequence depend on.
fn watch() {
    let mut oids = vec![SEQUENCE.with(Cell::get).0];
    SHAPES.with(|s| {
        for e in s.borrow().iter() {
            oids.push(e.relid);
            oids.extend(e.indexes.iter().copied());
        }
    });
    WATCHED.with(|w| *w.borrow_mut() = oids);
}

/// The oid of `cot.change_seq` (a clean error if it is missing).
pub(crate) fn sequence() -> Oid {
    let (oid, at) = SEQUENCE.with(Cell::get);
    if at == generation() && oid != Oid::INVALID {
        return oid;
    }
    let now = generation();
    // SAFETY: syscache lookups of the extension's own schema and sequence;
    // both raise a clean error if missing.
    let oid = unsafe {
        let cot = pg_sys::get_namespace_oid(c"cot".as_ptr(), false);
        let oid = pg_sys::get_relname_relid(c"change_seq".as_ptr(), cot);
        if oid == Oid::INVALID {
            pgrx::error!("the sequence cot.change_seq is missing: reinstall the extension");
        }
        oid
    };
    SEQUENCE.with(|s| s.set((oid, now)));
    watch();
    oid
}
