//! What goes with its data: junctions of removed many-to-many relations
//! (phase D), dropped fields and the owner column no rule needs any more
//! (phase E). Each is counted first; losing values is refused unless the
//! caller allows it, and a step that loses them is classed as data loss.

use super::*;

impl Builder<'_> {
    /// The trigger that fills `owner_id` goes with the last owner rule; it
    /// goes with the other table objects (phase C), before its column does.
    pub(super) fn drop_owner_trigger(&mut self, d: &Diff<'_>) {
        if d.owner_before && !d.owner_after {
            let step = Step::DropOwnerTrigger {
                schema: self.t.storage_schema.clone(),
                table: self.table.clone(),
            };
            self.push(step, Class::Metadata);
        }
    }

    /// Phase D: the junctions (view, then table) of many-to-many relations
    /// the new side lacks, with the links they hold counted.
    pub(super) fn drop_junctions(&mut self, d: &Diff<'_>) {
        let (o, n) = (d.old.entity, d.new.entity);
        for or in o.relations.iter().filter(|r| r.kind == RelationKind::ManyToMany) {
            if n.relations.iter().any(|r| r.id == or.id) {
                continue;
            }
            let j = or.junction.as_ref().expect("many_to_many").table.clone();
            // An empty table has no links: the junction is not asked.
            let links = if self.has_rows {
                self.counter.count(&Count {
                    schema: self.t.storage_schema.clone(),
                    table: j.clone(),
                    probe: Probe::Rows,
                })
            } else {
                0
            };
            if links > 0 && !self.options.allow_data_loss {
                self.refuse(
                    ErrorKind::DataLoss,
                    "/fields".into(),
                    format!("dropping relation \"{}\" would delete {links} links", or.name),
                    "pass {\"allow_data_loss\": true} to drop it with its links",
                );
            }
            let mut steps = relations::drop_junctions(&self.t, std::slice::from_ref(&j)).into_iter();
            if let Some(view) = steps.next() {
                self.push(view, Class::Metadata);
            }
            for step in steps {
                let class = if links > 0 {
                    Class::DataLoss
                } else {
                    Class::Metadata
                };
                self.push_counted(step, class, links, format!("links of {}", or.name));
            }
        }
    }

    /// Phase E: dropped fields, then the owner column no rule needs.
    pub(super) fn drop_fields(&mut self, d: &Diff<'_>) {
        for f in &d.dropped {
            let held = self.count(Probe::Values(f.name.clone()));
            if held > 0 && !self.options.allow_data_loss {
                self.refuse(
                    ErrorKind::DataLoss,
                    "/fields".into(),
                    format!(
                        "dropping field \"{}\" would lose the values of {}",
                        field_name(d.old.entity, f),
                        crate::words::counted(held, "row", "rows")
                    ),
                    "pass {\"allow_data_loss\": true} to drop it with its data, or keep the field",
                );
            }
            let step = self.drop_column(f.name.clone());
            if held > 0 {
                self.push_counted(step, Class::DataLoss, held, "rows holding a value");
            } else {
                self.push(step, Class::Metadata);
            }
        }
        if d.owner_before && !d.owner_after {
            self.drop_owner_column();
        }
    }

    /// The owner column, counted: forgetting who owns a row is data loss too.
    fn drop_owner_column(&mut self) {
        let owner = fixed(OWNER_COLUMN);
        let held = self.count(Probe::Values(owner.clone()));
        if held > 0 && !self.options.allow_data_loss {
            self.refuse(
                ErrorKind::DataLoss,
                "/access".into(),
                format!(
                    "no rule needs the owner any more: dropping owner_id would forget the owner of {}",
                    crate::words::counted(held, "row", "rows")
                ),
                "pass {\"allow_data_loss\": true}, or keep an owner rule",
            );
        }
        let step = self.drop_column(owner);
        let class = if held > 0 {
            Class::DataLoss
        } else {
            Class::Metadata
        };
        self.push_counted(step, class, held, "rows with an owner");
    }

    /// DROP COLUMN on this table.
    fn drop_column(&self, column: Ident) -> Step {
        Step::DropColumn {
            schema: self.t.storage_schema.clone(),
            table: self.table.clone(),
            column,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{base, ident, phase, sql};
    use super::*;
    use serde_json::json;

    fn allowed() -> Options {
        Options {
            allow_data_loss: true,
            ..Options::default()
        }
    }

    fn without_note() -> serde_json::Value {
        let mut new = base();
        new["fields"].as_array_mut().unwrap().pop();
        new
    }

    #[test]
    fn a_dropped_field_holding_data_is_refused_unless_allowed() {
        let held = vec![(Probe::Values(ident("note")), 7)];
        let e = phase(
            base(),
            without_note(),
            10,
            held.clone(),
            Options::default(),
            |b, d| b.drop_fields(d),
        );
        assert_eq!(e.refusals.len(), 1);
        assert_eq!(
            (e.refusals[0].kind, e.refusals[0].pointer.as_str()),
            (ErrorKind::DataLoss, "/fields")
        );
        assert_eq!(
            e.refusals[0].message,
            "dropping field \"note\" would lose the values of 7 rows"
        );
        let e = phase(base(), without_note(), 10, held, allowed(), |b, d| {
            b.drop_fields(d)
        });
        assert!(e.refusals.is_empty());
        assert_eq!(
            sql(&e),
            vec![r#"ALTER TABLE "tenant_acme"."item" DROP COLUMN "note""#]
        );
        assert_eq!(
            (e.changes[0].class, e.changes[0].rows),
            (Class::DataLoss, Some(7))
        );
    }

    #[test]
    fn an_empty_column_goes_as_metadata() {
        let e = phase(base(), without_note(), 10, vec![], Options::default(), |b, d| {
            b.drop_fields(d)
        });
        assert!(e.refusals.is_empty());
        assert_eq!((e.changes[0].class, e.changes[0].rows), (Class::Metadata, None));
    }

    #[test]
    fn a_removed_many_to_many_counts_its_links() {
        let mut old = base();
        old["fields"].as_array_mut().unwrap().push(json!(
            {"id": "01900000-0000-7000-8000-000000000011", "name": "tags", "type": "relation", "kind": "many_to_many", "target": "tag"}
        ));
        // Every table answers Rows alike; the junction's count is the links.
        let e = phase(old.clone(), base(), 4, vec![], Options::default(), |b, d| {
            b.drop_junctions(d)
        });
        assert_eq!(e.refusals.len(), 1);
        assert_eq!(
            e.refusals[0].message,
            "dropping relation \"tags\" would delete 4 links"
        );
        let s = sql(&e);
        assert!(s[0].starts_with(r#"DROP VIEW "acme"."item_tags""#), "{s:#?}");
        assert!(
            s[1].starts_with(r#"DROP TABLE "tenant_acme"."item_tags""#),
            "{s:#?}"
        );
        assert_eq!(
            (e.changes[1].class, e.changes[1].rows),
            (Class::DataLoss, Some(4))
        );
        let e = phase(old.clone(), base(), 4, vec![], allowed(), |b, d| {
            b.drop_junctions(d)
        });
        assert!(e.refusals.is_empty());
        // No rows in the entity: no links, nothing asked of the junction.
        let e = phase(old, base(), 0, vec![], Options::default(), |b, d| {
            b.drop_junctions(d)
        });
        assert!(e.refusals.is_empty());
        assert_eq!(
            (e.changes[1].class, e.changes[1].rows),
            (Class::Metadata, Some(0))
        );
    }

    #[test]
    fn the_owner_column_goes_with_the_last_owner_rule() {
        let mut old = base();
        old["access"] = json!({"read": "owner"});
        let owners = vec![(Probe::Values(fixed(OWNER_COLUMN)), 5)];
        let e = phase(
            old.clone(),
            base(),
            10,
            owners.clone(),
            Options::default(),
            |b, d| {
                b.drop_owner_trigger(d);
                b.drop_fields(d);
            },
        );
        assert_eq!(e.refusals.len(), 1);
        assert_eq!(e.refusals[0].pointer, "/access");
        assert!(matches!(e.changes[0].step, Step::DropOwnerTrigger { .. }));
        assert_eq!(
            (e.changes[1].class, e.changes[1].rows),
            (Class::DataLoss, Some(5))
        );
        let e = phase(old, base(), 10, owners, allowed(), |b, d| b.drop_fields(d));
        assert!(e.refusals.is_empty());
        // Still owner rules: nothing goes.
        let mut new = base();
        new["access"] = json!({"read": "owner", "update": "owner"});
        let mut old = base();
        old["access"] = json!({"read": "owner"});
        let e = phase(old, new, 10, vec![], Options::default(), |b, d| {
            b.drop_owner_trigger(d);
            b.drop_fields(d);
        });
        assert!(e.changes.is_empty(), "{:#?}", sql(&e));
    }
}
