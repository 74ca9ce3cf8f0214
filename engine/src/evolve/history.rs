//! Phase P: record history switched on or off. On: the tenant's change log
//! (made if missing) and the triggers on the table and its kept junctions
//! (junctions added by this change get theirs in phase K). Off: the triggers
//! go; the log and what it holds stay.

use super::*;
use crate::plan::history;

impl Builder<'_> {
    /// Phase P.
    pub(super) fn history(&mut self, d: &Diff<'_>) {
        let (before, after) = (d.old.entity.history, d.new.entity.history);
        if before == after {
            return;
        }
        let t = self.t.clone();
        let junctions: Vec<&crate::types::Junction> = d
            .kept_junctions
            .iter()
            .map(|(_, r)| r.junction.as_ref().expect("many_to_many"))
            .collect();
        let steps: Vec<Step> = if after {
            let mut steps = history::entity_steps(d.new.entity);
            for j in junctions {
                steps.extend(history::junction_steps(d.new.entity, j));
            }
            steps
        } else {
            let mut steps = history::drop_triggers(&t, &self.table, false);
            for j in junctions {
                steps.extend(history::drop_triggers(&t, &j.table, true));
            }
            steps
        };
        for step in steps {
            self.push(step, Class::Metadata);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{base, phase, sql};
    use super::*;
    use serde_json::json;

    fn with_history(on: bool) -> serde_json::Value {
        let mut def = base();
        def["history"] = json!(on);
        def["fields"].as_array_mut().unwrap().push(json!(
            {"id": "01900000-0000-7000-8000-000000000011", "name": "tags", "type": "relation", "kind": "many_to_many", "target": "tag"}
        ));
        def
    }

    #[test]
    fn switching_history_on_makes_the_log_and_the_triggers_off_drops_the_triggers() {
        let e = phase(
            with_history(false),
            with_history(true),
            10,
            vec![],
            Options::default(),
            |b, d| b.history(d),
        );
        let s = sql(&e);
        assert!(
            s[0].starts_with(r#"CREATE TABLE IF NOT EXISTS "tenant_acme"."_changes""#),
            "{s:#?}"
        );
        for (trigger, table) in [
            ("cot_history_insert", "item"),
            ("cot_history_update", "item"),
            ("cot_history_delete", "item"),
            ("cot_history_insert", "item_tags"),
            ("cot_history_delete", "item_tags"),
        ] {
            let start = format!(r#"CREATE TRIGGER "{trigger}" AFTER"#);
            let on = format!(r#"ON "tenant_acme"."{table}" REFERENCING"#);
            assert!(
                s.iter().any(|q| q.starts_with(&start) && q.contains(&on)),
                "{trigger} on {table}: {s:#?}"
            );
        }
        // A junction's links are never updated: no update trigger there.
        assert!(!s
            .iter()
            .any(|q| q.starts_with(r#"CREATE TRIGGER "cot_history_update""#) && q.contains("item_tags")));
        assert!(e.changes.iter().all(|c| c.class == Class::Metadata));

        let e = phase(
            with_history(true),
            with_history(false),
            10,
            vec![],
            Options::default(),
            |b, d| b.history(d),
        );
        let s = sql(&e);
        assert_eq!(s.len(), 5, "{s:#?}");
        assert!(
            s.iter()
                .all(|q| q.starts_with("DROP TRIGGER IF EXISTS \"cot_history_")),
            "{s:#?}"
        );
        // Unchanged: nothing.
        let e = phase(
            with_history(true),
            with_history(true),
            10,
            vec![],
            Options::default(),
            |b, d| b.history(d),
        );
        assert!(e.changes.is_empty());
    }
}
