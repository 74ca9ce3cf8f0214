//! Phase L: comments (descriptions and labels) that differ. Only the table's
//! and, when the view stays, the view's: a view made again gets its comments
//! with it (phase M).

use super::*;

impl Builder<'_> {
    /// Phase L: the new side's comments the old side did not have, columns
    /// compared under their new names so a rename alone comments nothing.
    pub(super) fn comment(&mut self, d: &Diff<'_>) {
        let mut kinds = vec![RelKind::Table];
        if !d.rebuild_view {
            kinds.push(RelKind::View);
        }
        for kind in kinds {
            let before: Vec<Step> = plan::comments(d.old.entity, d.old.labels, kind)
                .into_iter()
                .map(|s| renamed_comment(s, &d.renames))
                .collect();
            for step in plan::comments(d.new.entity, d.new.labels, kind) {
                if !before.contains(&step) {
                    self.push(step, Class::Metadata);
                }
            }
        }
    }
}

/// A column comment of the old side, on the column's new name.
fn renamed_comment(step: Step, renames: &HashMap<Ident, Ident>) -> Step {
    match step {
        Step::Comment {
            target: CommentTarget::Column(k, s, t, c),
            text,
        } => Step::Comment {
            target: CommentTarget::Column(k, s, t, renames.get(&c).cloned().unwrap_or(c)),
            text,
        },
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{base, phase, sql};
    use super::*;
    use serde_json::json;

    #[test]
    fn a_new_description_comments_the_column_on_table_and_view() {
        let mut new = base();
        new["fields"][2]["description"] = json!("what it is for");
        let e = phase(base(), new, 10, vec![], Options::default(), |b, d| b.comment(d));
        let s = sql(&e);
        assert_eq!(s.len(), 2, "{s:#?}");
        assert!(
            s[0].starts_with(r#"COMMENT ON COLUMN "tenant_acme"."item"."note""#),
            "{s:#?}"
        );
        assert!(
            s[1].starts_with(r#"COMMENT ON COLUMN "acme"."item"."note""#),
            "{s:#?}"
        );
    }

    #[test]
    fn a_rename_alone_comments_nothing() {
        let mut old = base();
        old["fields"][2]["description"] = json!("what it is for");
        let mut new = old.clone();
        new["fields"][2]["name"] = json!("remark");
        // Keep the label: it is derived from the name when absent.
        new["fields"][2]["label"] = json!("Note");
        let e = phase(old, new, 10, vec![], Options::default(), |b, d| b.comment(d));
        let s = sql(&e);
        assert!(
            s.iter().all(|q| !q.contains(r#""acme"."item"."remark""#)),
            "{s:#?}"
        );
        assert!(s.is_empty(), "{s:#?}");
    }
}
