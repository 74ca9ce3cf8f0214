//! Compound indexes (`indexes` in the definition): each names known columns,
//! once each, and adds an index no other option already makes.

use super::Checker;
use crate::definition::IndexDef;
use crate::error::{ErrorKind, Violation};
use crate::names::{Ident, SYSTEM_FIELDS};
use crate::types::{Field, Index};
use std::collections::HashSet;

impl Checker<'_> {
    /// The compound indexes that can be made. A bad one is reported and left
    /// out, so the others are still checked.
    pub(super) fn indexes(&mut self, defs: &[IndexDef], fields: &[Field]) -> Vec<Index> {
        let known: HashSet<&str> = fields
            .iter()
            .map(|f| f.name.as_str())
            .chain(SYSTEM_FIELDS)
            .collect();
        let mut out: Vec<Index> = Vec::new();
        for (i, d) in defs.iter().enumerate() {
            let Some(cols) = self.index_columns(i, d, fields, &known) else {
                continue;
            };
            if let [only] = cols.as_slice() {
                let field = fields.iter().find(|f| &f.name == only);
                if field.is_some_and(|f| if d.unique { f.unique } else { f.index || f.unique }) {
                    self.bad(
                        format!("/indexes/{i}"),
                        format!(
                            "field \"{only}\" already has this index through its own unique or index option"
                        ),
                        "remove the compound entry or the field's option",
                    );
                    continue;
                }
            }
            let index = Index {
                columns: cols,
                unique: d.unique,
            };
            if out.contains(&index) {
                self.bad(
                    format!("/indexes/{i}"),
                    "the same index is defined twice",
                    "remove the duplicate",
                );
                continue;
            }
            out.push(index);
        }
        out
    }

    /// The columns of index `i`, or `None` when any is unknown or repeated
    /// (every such column is reported, not just the first).
    fn index_columns(
        &mut self,
        i: usize,
        d: &IndexDef,
        fields: &[Field],
        known: &HashSet<&str>,
    ) -> Option<Vec<Ident>> {
        let mut cols = Vec::new();
        let mut ok = true;
        for (j, name) in d.fields.iter().enumerate() {
            let at = format!("/indexes/{i}/fields/{j}");
            if !known.contains(name.as_str()) {
                let mut names: Vec<&str> = known.iter().copied().collect();
                names.sort();
                self.out.push(Violation::new(
                    ErrorKind::UndefinedColumn,
                    at,
                    format!("index names unknown field {}", crate::names::shown(name)),
                    format!("known fields: {}", names.join(", ")),
                ));
                ok = false;
            } else if d.fields[..j].contains(name) {
                self.bad(
                    at,
                    format!("field \"{name}\" appears twice in one index"),
                    "list each field once",
                );
                ok = false;
            } else {
                cols.push(
                    fields
                        .iter()
                        .find(|f| f.name.as_str() == name)
                        .map_or_else(|| crate::names::fixed(system_name(name)), |f| f.name.clone()),
                );
            }
        }
        ok.then_some(cols)
    }
}

/// The `'static` name of a system field, which [`crate::names::fixed`] needs;
/// only called for a name already known to be one.
fn system_name(name: &str) -> &'static str {
    SYSTEM_FIELDS
        .iter()
        .find(|s| **s == name)
        .copied()
        .expect("a system field")
}
