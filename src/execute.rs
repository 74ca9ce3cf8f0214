//! Running a plan: each rendered statement through SPI, in order, in the
//! caller's transaction. A Postgres ERROR from any statement unwinds through
//! here untouched and aborts the transaction, which is what undoes the earlier
//! steps; nothing is caught.

use crate::raise::raise;
use crate::settings::{FAIL_AFTER_STEP, PAUSE_AFTER_STEP, PAUSE_LOCK};
use crate::spi;
use cot_engine::ddl::render;
use cot_engine::error::{CotError, ErrorKind};
use cot_engine::plan::Step;
use serde_json::{json, Value};

thread_local! {
    /// Set while Cot runs its own DDL, for the drift guard (`cot.guard_ddl`):
    /// only this code can set it, unlike a setting.
    static RUNNING_DDL: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Whether the statement being run comes from Cot itself.
#[pgrx::pg_extern(stable, parallel_safe)]
fn ddl_by_cot() -> bool {
    RUNNING_DDL.with(|r| r.get())
}

/// Clears the flag however the DDL ends: a Postgres ERROR unwinds through here.
struct Running;

impl Running {
    fn start() -> Self {
        RUNNING_DDL.with(|r| r.set(true));
        Running
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        RUNNING_DDL.with(|r| r.set(false));
    }
}

fn check_failpoint(done: i32, fail_after: i32, pause_after: i32) {
    if done == pause_after {
        // Waits while a test session holds the lock, then lets it go at once:
        // the pause leaves no lock behind.
        spi::query(
            "SELECT pg_catalog.pg_advisory_lock($1, $2), pg_catalog.pg_advisory_unlock($1, $2)",
            &[PAUSE_LOCK.0.into(), PAUSE_LOCK.1.into()],
            |_| Ok(()),
        );
    }
    if done == fail_after {
        raise(
            CotError::new(
                ErrorKind::Failpoint,
                format!("cot.test_fail_after_step: failing after step {done}"),
            )
            .hint("SET cot.test_fail_after_step = 0 to turn this off"),
        );
    }
}

/// The statements one Cot call runs, counted for `cot.test_fail_after_step`
/// and `cot.test_pause_after_step`.
pub struct Run {
    done: i32,
    fail_after: i32,
    pause_after: i32,
}

impl Run {
    /// A new run; reads the failpoint and pause settings once.
    pub fn new() -> Self {
        Run {
            done: 0,
            fail_after: FAIL_AFTER_STEP.get(),
            pause_after: PAUSE_AFTER_STEP.get(),
        }
    }

    /// Executes DDL steps in order and returns what ran: the plan entries (one
    /// `{"step": kind}` each) and their SQL, `sql[i]` the statement of `plan[i]`.
    pub fn ddl(&mut self, steps: &[Step]) -> (Vec<Value>, Vec<String>) {
        let sql: Vec<String> = steps.iter().map(render).collect();
        let plan: Vec<Value> = steps
            .iter()
            .map(|step| json!({"step": step.kind_name()}))
            .collect();
        let (mut done, fail_after, pause_after) = (self.done, self.fail_after, self.pause_after);
        let _running = Running::start();
        spi::run_statements(&sql, || {
            done += 1;
            check_failpoint(done, fail_after, pause_after);
        });
        self.done = done;
        (plan, sql)
    }

    /// Runs a meta-table write (it counts as a step for the failpoint).
    pub fn meta(&mut self, write: impl FnOnce()) {
        write();
        self.tick();
    }

    fn tick(&mut self) {
        self.done += 1;
        check_failpoint(self.done, self.fail_after, self.pause_after);
    }
}
