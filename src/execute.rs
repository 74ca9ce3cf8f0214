//! Running a plan: each rendered statement through SPI, in order, in the
//! caller's transaction. A Postgres ERROR from any statement unwinds through
//! here untouched and aborts the transaction, which is what undoes the earlier
//! steps; nothing is caught.

use crate::catalog;
use crate::errors::raise;
use crate::settings::FAIL_AFTER_STEP;
use cot_engine::ddl::render;
use cot_engine::error::{CotError, ErrorKind};
use cot_engine::plan::Step;
use serde_json::{json, Value};

fn check_failpoint(done: i32, fail_after: i32) {
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

/// The statements one Cot call runs, counted for `cot.test_fail_after_step`.
pub struct Run {
    done: i32,
    fail_after: i32,
}

impl Run {
    /// A new run; reads the failpoint setting once.
    pub fn new() -> Self {
        Run {
            done: 0,
            fail_after: FAIL_AFTER_STEP.get(),
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
        let (mut done, fail_after) = (self.done, self.fail_after);
        catalog::run_statements(&sql, || {
            done += 1;
            check_failpoint(done, fail_after);
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
        check_failpoint(self.done, self.fail_after);
    }
}
