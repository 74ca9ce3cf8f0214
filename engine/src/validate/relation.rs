//! Relation fields: the kind, target and options, and the names Cot composes
//! for them (the `<name>_id` column, the many-to-many junction). Whether the
//! target exists is checked later, against the tenant ([`crate::relations`]).

use super::{field_pointer, Checker};
use crate::definition::FieldDef;
use crate::error::{ErrorKind, Violation};
use crate::names::{Ident, NameKind, MAX_IDENT_BYTES};
use crate::scalar::Scalar;
use crate::types::{Field, FieldType, Junction, OnDelete, Relation, RelationKind};
use uuid::Uuid;

impl Checker<'_> {
    /// A relation field, and for many-to-one and one-to-one the `<name>_id`
    /// column it adds.
    pub(super) fn relation(
        &mut self,
        i: usize,
        f: &FieldDef,
        entity: &str,
    ) -> Option<(Relation, Option<Field>)> {
        let at = |key: &str| field_pointer(i, key);
        let name = self.name(NameKind::Field, &f.name, &at("name"));
        let id = self.id(&f.id, at("id"));
        let kind = self.relation_kind(i, f)?;
        let target_text = self.relation_target(i, f)?;
        let target = self.name(NameKind::Entity, target_text, &at("target"));
        self.relation_options_fit(i, f, kind);
        let on_delete = self.on_delete(i, f);
        let inverse = if kind == RelationKind::OneToMany {
            Some(self.inverse(i, f)?)
        } else {
            None
        };
        let (name, target) = (name?, target?);
        let column = if kind.has_column() {
            Some(self.relation_column(i, &name)?)
        } else {
            None
        };
        let junction = if kind == RelationKind::ManyToMany {
            Some(self.junction(i, entity, &name, &target)?)
        } else {
            None
        };
        self.read_only_names(i, f, kind, &column, &junction);
        let column_field = column.clone().map(|c| column_field(id, c, kind, f));
        Some((
            Relation {
                id,
                at: i,
                name,
                kind,
                target,
                on_delete,
                required: f.required,
                column,
                inverse,
                junction,
                description: f.description.clone(),
            },
            column_field,
        ))
    }

    /// The relation's kind, which decides every other option's meaning; without
    /// it nothing more is checked.
    fn relation_kind(&mut self, i: usize, f: &FieldDef) -> Option<RelationKind> {
        Some(match f.kind.as_deref() {
            Some("many_to_one") => RelationKind::ManyToOne,
            Some("one_to_one") => RelationKind::OneToOne,
            Some("one_to_many") => RelationKind::OneToMany,
            Some("many_to_many") => RelationKind::ManyToMany,
            _ => {
                self.bad(
                    field_pointer(i, "kind"),
                    "relation fields need a kind",
                    "one of many_to_one, one_to_one, one_to_many, many_to_many",
                );
                return None;
            }
        })
    }

    /// The target's name as given; it is checked as an entity name by the caller.
    fn relation_target<'f>(&mut self, i: usize, f: &'f FieldDef) -> Option<&'f str> {
        if f.target.is_none() {
            self.bad(
                field_pointer(i, "target"),
                "relation fields need a target: the entity they point to",
                "e.g. \"target\": \"customers\"",
            );
        }
        f.target.as_deref()
    }

    /// Options that do not fit a relation of this kind: every plain field's
    /// option, and the relation options of other kinds.
    fn relation_options_fit(&mut self, i: usize, f: &FieldDef, kind: RelationKind) {
        let mut not_for = |present: bool, key: &str| {
            if present {
                self.bad(
                    field_pointer(i, key),
                    format!("option {key} does not apply to {} relations", kind.name()),
                    "remove it; the relationship reference lists the options of each kind",
                );
            }
        };
        for (key, present) in [
            ("items", f.items.is_some()),
            ("unique", f.unique),
            ("index", f.index),
            ("default", f.default.is_some()),
            ("min", f.min.is_some()),
            ("max", f.max.is_some()),
            ("min_length", f.min_length.is_some()),
            ("max_length", f.max_length.is_some()),
            ("pattern", f.pattern.is_some()),
            ("precision", f.precision.is_some()),
            ("scale", f.scale.is_some()),
            ("values", f.values.is_some()),
        ] {
            not_for(present, key);
        }
        not_for(f.on_delete.is_some() && !kind.has_column(), "on_delete");
        not_for(f.required && !kind.has_column(), "required");
        not_for(f.inverse.is_some() && kind != RelationKind::OneToMany, "inverse");
    }

    /// What deleting the target does. The schema admits only the three names,
    /// so anything but restrict and cascade is set_null.
    fn on_delete(&mut self, i: usize, f: &FieldDef) -> OnDelete {
        let on_delete = match f.on_delete.as_deref() {
            None | Some("restrict") => OnDelete::Restrict,
            Some("cascade") => OnDelete::Cascade,
            Some(_) => OnDelete::SetNull,
        };
        if on_delete == OnDelete::SetNull && f.required {
            self.bad(
                field_pointer(i, "on_delete"),
                "on_delete set_null cannot apply to a required relation",
                "make the relation optional, or use restrict or cascade",
            );
        }
        on_delete
    }

    /// A one-to-many relation's inverse: the target's field that holds the key.
    fn inverse(&mut self, i: usize, f: &FieldDef) -> Option<Ident> {
        let Some(inv) = f.inverse.as_deref() else {
            self.bad(
                field_pointer(i, "inverse"),
                "one_to_many relations need inverse: the target's many_to_one field that points back",
                "e.g. \"inverse\": \"customer\" for customers.orders over orders.customer",
            );
            return None;
        };
        self.name(NameKind::Field, inv, &field_pointer(i, "inverse"))
    }

    /// The `<name>_id` column of a relation that has one.
    fn relation_column(&mut self, i: usize, name: &Ident) -> Option<Ident> {
        let col = format!("{name}_id");
        if col.len() > MAX_IDENT_BYTES {
            self.name_too_long(i, format!("the column {col}"));
            return None;
        }
        Some(crate::names::composed(col))
    }

    /// A many-to-many relation's junction table `<entity>_<name>` and its two
    /// columns. A relation from an entity to itself names the far column after
    /// the field, since both ends would otherwise be `<entity>_id`.
    fn junction(&mut self, i: usize, entity: &str, name: &Ident, target: &Ident) -> Option<Junction> {
        let table = format!("{entity}_{name}");
        let source_column = format!("{entity}_id");
        let target_column = if target.as_str() == entity {
            format!("{name}_id")
        } else {
            format!("{target}_id")
        };
        for n in [&table, &source_column, &target_column] {
            if n.len() > MAX_IDENT_BYTES {
                self.name_too_long(i, format!("the junction's name {n}"));
                return None;
            }
        }
        if source_column == target_column {
            self.out.push(Violation::new(
                ErrorKind::DuplicateColumn,
                field_pointer(i, "name"),
                format!("the junction would have two columns named {source_column}"),
                "name the field differently from the entity",
            ));
            return None;
        }
        Some(Junction {
            table: crate::names::composed(table),
            source_column: crate::names::composed(source_column),
            target_column: crate::names::composed(target_column),
        })
    }

    /// A composed name over the limit is reported at the field's name, the
    /// part the caller chose.
    fn name_too_long(&mut self, i: usize, what: String) {
        self.out.push(Violation::new(
            ErrorKind::NameTooLong,
            field_pointer(i, "name"),
            format!("{what} would be longer than {MAX_IDENT_BYTES} bytes"),
            "choose a shorter field (or entity) name",
        ));
    }

    /// `column` and `junction` are read only: Cot returns them; sent back they
    /// must say what Cot would make, never choose another name.
    fn read_only_names(
        &mut self,
        i: usize,
        f: &FieldDef,
        kind: RelationKind,
        column: &Option<Ident>,
        junction: &Option<Junction>,
    ) {
        let made = [
            column.as_ref().map(|c| c.to_string()),
            junction.as_ref().map(|j| j.table.to_string()),
        ];
        for ((key, given), expected) in [("column", &f.column), ("junction", &f.junction)]
            .into_iter()
            .zip(made)
        {
            if let Some(given) = given {
                if expected.as_deref() != Some(given.as_str()) {
                    self.bad(
                        field_pointer(i, key),
                        match &expected {
                            Some(e) => format!("{key} is read only: for this relation it is \"{e}\""),
                            None => format!("option {key} does not apply to {} relations", kind.name()),
                        },
                        "omit it; Cot names the column and the junction from the field and entity names",
                    );
                }
            }
        }
    }
}

/// The uuid column a many-to-one or one-to-one relation adds. It shares the
/// relation's id; it is unique for one-to-one (one row each side), and indexed
/// for many-to-one, where reading a target's rows and deleting a target both
/// search by it.
fn column_field(id: Uuid, name: Ident, kind: RelationKind, f: &FieldDef) -> Field {
    Field {
        id,
        name,
        ty: FieldType::Scalar(Scalar::Uuid),
        required: f.required,
        unique: kind == RelationKind::OneToOne,
        index: kind == RelationKind::ManyToOne,
        default: None,
        min: None,
        max: None,
        min_length: None,
        max_length: None,
        pattern: None,
        description: f.description.clone(),
        custom: None,
    }
}
