use super::*;
use crate::ddl::render;
use crate::validate::{tests::TestEnv, validate, Validated};
use serde_json::json;

/// Rows as a table of answers; anything not listed counts 0.
struct Answers {
    rows: u64,
    given: Vec<(Probe, u64)>,
}

impl Counter for Answers {
    fn count(&mut self, c: &Count) -> u64 {
        if c.probe == Probe::Rows {
            return self.rows;
        }
        if c.probe == Probe::AnyRow {
            return self.rows.min(1);
        }
        self.given
            .iter()
            .find(|(p, _)| *p == c.probe)
            .map_or(0, |(_, n)| *n)
    }
}

/// The validated definition; a test definition that fails is a bug in the test.
pub(super) fn valid(def: Value) -> Validated {
    validate(&def, &TestEnv::new()).unwrap_or_else(|v| panic!("{v:?}"))
}

/// An entity with a limited, indexed text field and two plain ones.
pub(super) fn base() -> Value {
    json!({"tenant": "acme", "name": "item", "id": "01900000-0000-7000-8000-000000000001", "fields": [
        {"id": "01900000-0000-7000-8000-000000000002", "name": "title", "type": "text", "max_length": 50, "index": true},
        {"id": "01900000-0000-7000-8000-000000000003", "name": "qty", "type": "text"},
        {"id": "01900000-0000-7000-8000-000000000004", "name": "note", "type": "text"}
    ], "access": {"read": "tenant"}})
}

/// [`base`] with one more field.
pub(super) fn with(field: Value) -> Value {
    let mut def = base();
    def["fields"].as_array_mut().unwrap().push(field);
    def
}

fn run(old: Value, new: Value, rows: u64, given: Vec<(Probe, u64)>, options: Options) -> Evolution {
    evolve_validated(&valid(old), &valid(new), &options, &mut Answers { rows, given })
}

/// The evolution from `o` to `n` with no other entities around, the rows
/// answered by `counter` (also for the field type tests, whose definitions
/// are validated with their types).
pub(crate) fn evolve_validated(
    o: &Validated,
    n: &Validated,
    options: &Options,
    counter: &mut dyn Counter,
) -> Evolution {
    let (ol, nl) = (Labels::of(&o.normalized), Labels::of(&n.normalized));
    evolve(
        &Side {
            entity: &o.entity,
            labels: &ol,
            normalized: &o.normalized,
        },
        &Side {
            entity: &n.entity,
            labels: &nl,
            normalized: &n.normalized,
        },
        &Surroundings::default(),
        options,
        counter,
    )
}

/// Every step of the change from `old` to `new`, on an empty table.
pub(crate) fn phase_all(old: Value, new: Value) -> Vec<Step> {
    run(old, new, 0, vec![], Options::default())
        .changes
        .into_iter()
        .map(|c| c.step)
        .collect()
}

/// Runs `f` on the facts of the change from `old` to `new`.
pub(super) fn with_diff(old: Value, new: Value, f: impl FnOnce(&Diff<'_>)) {
    let (o, n) = (valid(old), valid(new));
    let (ol, nl) = (Labels::of(&o.normalized), Labels::of(&n.normalized));
    let old = Side {
        entity: &o.entity,
        labels: &ol,
        normalized: &o.normalized,
    };
    let new = Side {
        entity: &n.entity,
        labels: &nl,
        normalized: &n.normalized,
    };
    f(&Diff::new(&old, &new));
}

/// The plan one phase alone makes: `f` calls it on a fresh builder for a
/// table of `rows` rows, counts answered from `given` as in [`run`].
pub(super) fn phase(
    old: Value,
    new: Value,
    rows: u64,
    given: Vec<(Probe, u64)>,
    options: Options,
    f: impl FnOnce(&mut Builder<'_>, &Diff<'_>),
) -> Evolution {
    let mut answers = Answers { rows, given };
    let mut out = None;
    with_diff(old, new, |d| {
        let mut b = Builder::new(d.new.entity, &options, &mut answers);
        f(&mut b, d);
        out = Some(b.out);
    });
    out.expect("ran")
}

/// The plan's steps as SQL, in order.
pub(super) fn sql(e: &Evolution) -> Vec<String> {
    e.changes.iter().map(|c| render(&c.step)).collect()
}

/// A field name as the validator accepts it.
pub(super) fn ident(s: &str) -> Ident {
    crate::names::check_name(
        crate::names::NameKind::Field,
        s,
        "",
        &crate::names::Keywords::default(),
    )
    .unwrap()
}

#[test]
fn the_same_definition_changes_nothing() {
    let e = run(base(), base(), 10, vec![], Options::default());
    assert!(e.changes.is_empty(), "{:#?}", sql(&e));
    assert!(e.refusals.is_empty());
}

#[test]
fn a_new_name_with_the_same_id_renames_and_keeps_everything() {
    let mut new = base();
    new["fields"][0]["name"] = json!("name");
    let e = run(base(), new, 10, vec![], Options::default());
    let s = sql(&e);
    assert!(s.contains(&r#"ALTER TABLE "tenant_acme"."item" RENAME COLUMN "title" TO "name""#.to_string()));
    assert!(s.contains(
        &r#"ALTER TABLE "tenant_acme"."item" RENAME CONSTRAINT "item_title_max_length" TO "item_name_max_length""#
            .to_string()
    ));
    assert!(
        s.contains(&r#"ALTER INDEX "tenant_acme"."item_title_idx" RENAME TO "item_name_idx""#.to_string())
    );
    assert!(
        !s.iter()
            .any(|q| q.contains("DROP COLUMN") || q.contains("ADD CONSTRAINT")),
        "{s:#?}"
    );
    assert!(e.changes.iter().all(|c| c.class == Class::Metadata));
}

#[test]
fn dropping_a_field_that_holds_data_is_refused_unless_allowed() {
    let mut new = base();
    new["fields"].as_array_mut().unwrap().pop();
    let held = vec![(Probe::Values(ident("note")), 7)];
    let e = run(base(), new.clone(), 10, held.clone(), Options::default());
    assert_eq!(e.refusals.len(), 1);
    assert_eq!(e.refusals[0].kind, ErrorKind::DataLoss);
    assert!(
        e.refusals[0].message.contains("7 rows"),
        "{}",
        e.refusals[0].message
    );
    let allowed = Options {
        allow_data_loss: true,
        ..Options::default()
    };
    let e = run(base(), new.clone(), 10, held, allowed);
    assert!(e.refusals.is_empty());
    let drop = e
        .changes
        .iter()
        .find(|c| render(&c.step).contains("DROP COLUMN \"note\""))
        .unwrap();
    assert_eq!((drop.class, drop.rows), (Class::DataLoss, Some(7)));
    // An empty column goes without a word.
    let e = run(base(), new, 10, vec![], Options::default());
    assert!(e.refusals.is_empty());
}

#[test]
fn a_type_change_counts_values_that_do_not_convert() {
    let mut new = base();
    new["fields"][1]["type"] = json!("integer");
    let failing = vec![(Probe::NotCastable(ident("qty"), "integer".into()), 2)];
    let e = run(base(), new.clone(), 10, failing.clone(), Options::default());
    assert_eq!(e.refusals[0].kind, ErrorKind::DataLoss);
    assert_eq!(e.refusals[0].pointer, "/fields/1/type");
    let allowed = Options {
        allow_data_loss: true,
        ..Options::default()
    };
    let e = run(base(), new.clone(), 10, failing, allowed);
    assert!(sql(&e).iter().any(|q| q
        .contains(r#"TYPE integer USING CASE WHEN CASE WHEN "qty"::text ~ E'^\\s*[-+]?[0-9]{1,9}\\s*$' THEN true ELSE cot.castable("qty", 'integer') END THEN "qty"::integer END"#)));
    // Every value converts: a plain rewrite, the view made again around it.
    let e = run(base(), new, 10, vec![], Options::default());
    let s = sql(&e);
    assert!(
        s.iter()
            .any(|q| q.ends_with(r#"TYPE integer USING "qty"::integer"#)),
        "{s:#?}"
    );
    assert!(s[0].starts_with("DROP VIEW"), "{s:#?}");
    assert!(e.changes.iter().any(|c| c.class == Class::Rewrite));
}

#[test]
fn a_tighter_limit_is_counted_against_the_rows() {
    let mut new = base();
    new["fields"][0]["max_length"] = json!(10);
    let check = Check::MaxLength(10);
    let e = run(
        base(),
        new.clone(),
        10,
        vec![(Probe::FailsCheck(ident("title"), None, check), 3)],
        Options::default(),
    );
    assert_eq!(e.refusals[0].kind, ErrorKind::CheckViolation);
    assert!(e.refusals[0].message.starts_with("3 rows"));
    // No violations: dropped, added NOT VALID, validated.
    let e = run(base(), new.clone(), 10, vec![], Options::default());
    let s = sql(&e);
    assert_eq!(
        s,
        vec![
            r#"ALTER TABLE "tenant_acme"."item" DROP CONSTRAINT "item_title_max_length""#,
            r#"ALTER TABLE "tenant_acme"."item" ADD CONSTRAINT "item_title_max_length" CHECK (CASE WHEN (char_length("title") <= 10) IS NOT FALSE THEN true ELSE cot.rule_broken(tableoid, '01900000-0000-7000-8000-000000000002'::uuid, 'at most 10 characters long') END) NOT VALID"#,
            r#"ALTER TABLE "tenant_acme"."item" VALIDATE CONSTRAINT "item_title_max_length""#,
        ]
    );
    // On an empty table the constraint is simply added.
    let e = run(base(), new, 0, vec![], Options::default());
    assert_eq!(
        sql(&e)[1],
        r#"ALTER TABLE "tenant_acme"."item" ADD CONSTRAINT "item_title_max_length" CHECK (CASE WHEN (char_length("title") <= 10) IS NOT FALSE THEN true ELSE cot.rule_broken(tableoid, '01900000-0000-7000-8000-000000000002'::uuid, 'at most 10 characters long') END)"#
    );
}

#[test]
fn changed_access_rules_replace_policies_and_grants_only() {
    let mut new = base();
    new["access"] = json!({"read": "public", "create": "tenant"});
    let e = run(base(), new, 10, vec![], Options::default());
    let s = sql(&e);
    assert!(s
        .iter()
        .all(|q| !q.contains("VIEW") || q.starts_with("GRANT") || q.starts_with("REVOKE")));
    assert!(s.contains(&r#"DROP POLICY "cot_select" ON "tenant_acme"."item""#.to_string()));
    assert!(s.iter().any(|q| q.starts_with(r#"CREATE POLICY "cot_select" ON "tenant_acme"."item" AS PERMISSIVE FOR SELECT TO "cot_acme_anon", "cot_acme_user", "cot_acme_admin""#)));
    assert!(s.contains(
        &r#"GRANT INSERT ON TABLE "acme"."item" TO "cot_acme_user", "cot_acme_admin""#.to_string()
    ));
}

#[test]
fn unsupported_type_changes_and_relation_kinds_are_refused() {
    let mut new = base();
    new["fields"][1] = json!({"id": "01900000-0000-7000-8000-000000000003", "name": "qty", "type": "array", "items": "text"});
    let e = run(base(), new, 10, vec![], Options::default());
    assert_eq!(e.refusals[0].kind, ErrorKind::FeatureNotSupported);
}

#[test]
fn ids_carry_over_by_name() {
    let stored = valid(base()).normalized;
    let input = json!({"tenant": "acme", "name": "item", "fields": [{"name": "qty", "type": "integer"}, {"name": "new", "type": "text"}]});
    let out = carry_ids(&stored, &input);
    assert_eq!(out["id"], stored["id"]);
    assert_eq!(out["fields"][0]["id"], stored["fields"][1]["id"]);
    assert!(out["fields"][1].get("id").is_none());
}
