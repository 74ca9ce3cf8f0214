//! Cot's configuration parameters (GUCs).

use pgrx::{GucContext, GucFlags, GucRegistry, GucSetting};

/// `cot.test_fail_after_step`: when > 0, a Cot function fails on purpose right
/// after its N-th statement (DDL or meta-table write). Tests use it to prove that
/// a failure at any step leaves nothing behind. Superuser only.
pub static FAIL_AFTER_STEP: GucSetting<i32> = GucSetting::<i32>::new(0);

/// Registers the parameters when the library loads.
pub fn register() {
    GucRegistry::define_int_guc(
        c"cot.test_fail_after_step",
        c"Fail on purpose after this many statements of a Cot function (0: never).",
        c"For tests of atomicity: every step of create_tenant, create_entity, drop_entity and drop_tenant can be made to fail.",
        &FAIL_AFTER_STEP,
        0,
        i32::MAX,
        GucContext::Suset,
        GucFlags::default(),
    );
}
