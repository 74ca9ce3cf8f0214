//! The entity as a whole: its own names and id, each field in turn, and what
//! only shows across fields (a name or id used twice, a relation's column that
//! meets another field's name).

use super::Checker;
use crate::definition::EntityDef;
use crate::error::{ErrorKind, Violation};
use crate::names::NameKind;
use crate::types::{Entity, Field, Relation};
use std::collections::HashMap;
use uuid::Uuid;

/// What the fields of a definition became, each column with the index of the
/// field it came from (violations across fields point at one of them).
struct Members {
    fields: Vec<(usize, Field)>,
    relations: Vec<Relation>,
    /// Each field id and the first field that has it.
    ids: HashMap<Uuid, usize>,
}

impl Checker<'_> {
    /// The entity, or `None` when its own tenant or name is bad; its fields are
    /// checked either way, so their violations are reported too.
    pub(super) fn entity(&mut self, d: &EntityDef) -> Option<Entity> {
        let tenant = self.name(NameKind::Tenant, &d.tenant, "/tenant");
        let name = self.name(NameKind::Entity, &d.name, "/name");
        let id = self.id(&d.id, "/id".into());
        let members = self.members(d);
        if let Some(&i) = members.ids.get(&id) {
            self.out.push(Violation::new(
                ErrorKind::DuplicateObject,
                format!("/fields/{i}/id"),
                format!("field id {id} is the entity's own id"),
                "entities and fields share one space of ids; omit ids to have them generated",
            ));
        }
        self.column_clashes(d, &members.fields);
        let fields: Vec<Field> = members.fields.into_iter().map(|(_, f)| f).collect();
        let indexes = self.indexes(&d.indexes, &fields);
        let mut entity = Entity {
            id,
            tenant: tenant?,
            name: name?,
            description: d.description.clone(),
            fields,
            indexes,
            relations: members.relations,
            access: d.access,
            history: d.history,
            workflow: None,
        };
        entity.workflow = self.workflow(d, &entity);
        Some(entity)
    }

    /// Checks every field, and that no two share a name or an id. A field that
    /// cannot be built is left out, so its id is not compared.
    fn members(&mut self, d: &EntityDef) -> Members {
        let mut m = Members {
            fields: Vec::new(),
            relations: Vec::new(),
            ids: HashMap::new(),
        };
        let mut seen_names: HashMap<&str, usize> = HashMap::new();
        for (i, f) in d.fields.iter().enumerate() {
            if let Some(first) = seen_names.insert(&f.name, i) {
                self.out.push(Violation::new(
                    ErrorKind::DuplicateColumn,
                    format!("/fields/{i}/name"),
                    format!("field \"{}\" is defined twice (also at /fields/{first})", f.name),
                    "give each field its own name",
                ));
                // Later repeats should point back at the first, not at this one.
                seen_names.insert(&f.name, first);
            }
            let field_id = if f.field_type == "relation" {
                self.no_state_options(i, f);
                let Some((relation, column)) = self.relation(i, f, &d.name) else {
                    continue;
                };
                let rid = relation.id;
                m.relations.push(relation);
                m.fields.extend(column.map(|c| (i, c)));
                rid
            } else {
                let field = if f.field_type == "state" {
                    self.state_field(i, f)
                } else {
                    self.no_state_options(i, f);
                    self.field(i, f)
                };
                let Some(field) = field else {
                    continue;
                };
                let fid = field.id;
                m.fields.push((i, field));
                fid
            };
            if let Some(first) = m.ids.insert(field_id, i) {
                self.out.push(Violation::new(
                    ErrorKind::DuplicateObject,
                    format!("/fields/{i}/id"),
                    format!("field id {field_id} is used twice (also at /fields/{first})"),
                    "each field needs its own id; omit ids to have them generated",
                ));
            }
        }
        m
    }

    /// A relation's column `<name>_id` may meet another field's name; the
    /// violation points at the relation, whose name is the one that was composed.
    fn column_clashes(&mut self, d: &EntityDef, fields: &[(usize, Field)]) {
        let mut columns: HashMap<&str, usize> = HashMap::new();
        for (i, f) in fields {
            if let Some(first) = columns.insert(f.name.as_str(), *i) {
                if d.fields[*i].name == d.fields[first].name {
                    continue; // the same name twice: reported by `members`
                }
                let (at, other) = if d.fields[*i].field_type == "relation" {
                    (*i, first)
                } else {
                    (first, *i)
                };
                self.out.push(Violation::new(
                    ErrorKind::DuplicateColumn,
                    format!("/fields/{at}/name"),
                    format!(
                        "the relation's column \"{}\" is also the name of /fields/{other}",
                        f.name
                    ),
                    "rename one of the two fields",
                ));
            }
        }
    }
}
