//! What changes between the two sides, worked out once before any step is
//! planned. Several phases read the same facts (the renames reach constraints,
//! comments and probes; the view's rebuild decides grants and comments), so
//! computing them here keeps the phases from disagreeing about them.

use super::*;

/// Objects of one kind (constraints or indexes) paired across the change by
/// what they check once the field renames are applied.
pub(super) struct Matched<T> {
    /// (old name, new name): the same rule under a name that follows a field's.
    pub(super) renamed: Vec<(Ident, Ident)>,
    /// Old objects with no partner: their rule went or changed.
    pub(super) dropped: Vec<Ident>,
    /// New objects with no partner, in the order creating the entity makes them.
    pub(super) made: Vec<T>,
}

/// The shared facts of a change from `old` to `new`.
pub(super) struct Diff<'a> {
    /// The entity as stored.
    pub(super) old: &'a Side<'a>,
    /// The entity as newly defined.
    pub(super) new: &'a Side<'a>,
    /// Old fields by id: fields are matched by id, never by name.
    pub(super) old_fields: HashMap<uuid::Uuid, &'a Field>,
    /// Old column name to new one, for fields that kept their id.
    pub(super) renames: HashMap<Ident, Ident>,
    /// New fields (ids the old side lacks), in definition order.
    pub(super) added: Vec<&'a Field>,
    /// Old fields whose id the new side lacks, in old definition order.
    pub(super) dropped: Vec<&'a Field>,
    /// Old relations by id.
    pub(super) old_relations: HashMap<uuid::Uuid, &'a crate::types::Relation>,
    /// (old, new) many-to-many relations on both sides: their junctions stay.
    pub(super) kept_junctions: Vec<(&'a crate::types::Relation, &'a crate::types::Relation)>,
    /// The view is dropped and made again (its columns or their types change).
    pub(super) rebuild_view: bool,
    /// Computed relationships of the old side.
    pub(super) old_fns: Vec<RelationFunction>,
    /// Computed relationships of the new side.
    pub(super) new_fns: Vec<RelationFunction>,
    /// The computed relationships are dropped and made again: they take the
    /// view's row type, so a rebuilt view takes them along.
    pub(super) fns_change: bool,
    /// The access rules differ: policies and grants are replaced.
    pub(super) access_change: bool,
    /// The rules the junctions derive differ too (owner rules flatten to
    /// tenant there, so an owner change may leave them alone).
    pub(super) junction_access_change: bool,
    /// The old rules need the owner column.
    pub(super) owner_before: bool,
    /// The new rules need the owner column.
    pub(super) owner_after: bool,
    /// Constraints (but the primary key) of the table.
    pub(super) constraints: Matched<Constraint>,
    /// Indexes of the table.
    pub(super) indexes: Matched<IndexSpec>,
}

impl<'a> Diff<'a> {
    /// The facts of the change from `old` to `new`; reads no rows.
    pub(super) fn new(old: &'a Side<'a>, new: &'a Side<'a>) -> Diff<'a> {
        let (o, n) = (old.entity, new.entity);
        let old_fields: HashMap<uuid::Uuid, &Field> = o.fields.iter().map(|f| (f.id, f)).collect();
        let new_ids: Vec<uuid::Uuid> = n.fields.iter().map(|f| f.id).collect();
        let mut renames: HashMap<Ident, Ident> = HashMap::new();
        let mut added: Vec<&Field> = Vec::new();
        let mut retyped: Vec<Ident> = Vec::new();
        for f in &n.fields {
            match old_fields.get(&f.id) {
                Some(of) => {
                    if of.name != f.name {
                        renames.insert(of.name.clone(), f.name.clone());
                    }
                    if of.ty.sql_type() != f.ty.sql_type() {
                        retyped.push(f.name.clone());
                    }
                }
                None => added.push(f),
            }
        }
        let dropped: Vec<&Field> = o.fields.iter().filter(|f| !new_ids.contains(&f.id)).collect();
        let old_relations: HashMap<uuid::Uuid, &crate::types::Relation> =
            o.relations.iter().map(|r| (r.id, r)).collect();
        let kept_junctions = n
            .relations
            .iter()
            .filter(|r| r.kind == RelationKind::ManyToMany)
            .filter_map(|r| old_relations.get(&r.id).map(|or| (*or, r)))
            .filter(|(or, _)| or.kind == RelationKind::ManyToMany)
            .collect();
        // A view keeps the column names it was made with: a rename rebuilds it
        // too. A dropped column is in the view, so the view goes first, even
        // when a new field of the same name takes its place.
        let rebuild_view = view_columns(o) != view_columns(n) || !dropped.is_empty() || !retyped.is_empty();
        let old_fns = own_functions(o);
        let new_fns = own_functions(n);
        let fns_change = rebuild_view || old_fns != new_fns;
        let (constraints, indexes) = match_objects(old, new, &renames);
        Diff {
            old,
            new,
            old_fields,
            renames,
            added,
            dropped,
            old_relations,
            kept_junctions,
            rebuild_view,
            old_fns,
            new_fns,
            fns_change,
            access_change: o.access != n.access,
            junction_access_change: o.access.for_junction() != n.access.for_junction(),
            owner_before: o.access.needs_owner(),
            owner_after: n.access.needs_owner(),
            constraints,
            indexes,
        }
    }
}

/// Pairs the constraints and indexes creating each side would make, by what
/// they check after `renames`, so an unchanged rule keeps its object.
fn match_objects(
    old: &Side<'_>,
    new: &Side<'_>,
    renames: &HashMap<Ident, Ident>,
) -> (Matched<Constraint>, Matched<IndexSpec>) {
    let (old_constraints, old_indexes) = table_objects(old.entity, old.labels);
    let (new_constraints, new_indexes) = table_objects(new.entity, new.labels);
    let old_c: Vec<(Ident, ConstraintKind)> = old_constraints
        .iter()
        .map(|c| (c.name.clone(), renamed_kind(&c.kind, renames)))
        .collect();
    let new_c: Vec<(Ident, ConstraintKind, ())> = new_constraints
        .iter()
        .map(|c| (c.name.clone(), c.kind.clone(), ()))
        .collect();
    let (renamed, dropped, made) = match_by(&old_c, &new_c);
    let constraints = Matched {
        renamed,
        dropped,
        made: made.into_iter().map(|j| new_constraints[j].clone()).collect(),
    };
    let old_i: Vec<(Ident, (Vec<Ident>, bool))> = old_indexes
        .iter()
        .map(|(name, cols, gin)| (name.clone(), (rename_all(cols, renames), *gin)))
        .collect();
    let new_i: Vec<(Ident, (Vec<Ident>, bool), ())> = new_indexes
        .iter()
        .map(|(name, cols, gin)| (name.clone(), (cols.clone(), *gin), ()))
        .collect();
    let (renamed, dropped, made) = match_by(&old_i, &new_i);
    let indexes = Matched {
        renamed,
        dropped,
        made: made.into_iter().map(|j| new_indexes[j].clone()).collect(),
    };
    (constraints, indexes)
}

#[cfg(test)]
mod tests {
    use super::super::tests::{base, ident, with_diff};
    use super::*;
    use serde_json::json;

    #[test]
    fn fields_are_matched_by_id_not_by_name() {
        let mut new = base();
        new["fields"][0]["name"] = json!("name");
        // "note" gets a new id: the old one goes, a new one of the same name comes.
        new["fields"][2]["id"] = json!("01900000-0000-7000-8000-000000000009");
        new["fields"][1]["type"] = json!("integer");
        with_diff(base(), new, |d| {
            assert_eq!(d.renames.get(&ident("title")), Some(&ident("name")));
            assert_eq!(d.renames.len(), 1);
            let names = |fs: &[&Field]| fs.iter().map(|f| f.name.to_string()).collect::<Vec<_>>();
            assert_eq!(names(&d.added), ["note"]);
            assert_eq!(names(&d.dropped), ["note"]);
            assert!(d.rebuild_view && d.fns_change);
        });
    }

    #[test]
    fn a_renamed_field_renames_its_objects_instead_of_making_them_again() {
        let mut new = base();
        new["fields"][0]["name"] = json!("name");
        with_diff(base(), new, |d| {
            assert_eq!(
                d.constraints.renamed,
                vec![(ident("item_title_max_length"), ident("item_name_max_length"))]
            );
            assert_eq!(
                d.indexes.renamed,
                vec![(ident("item_title_idx"), ident("item_name_idx"))]
            );
            assert!(d.constraints.dropped.is_empty() && d.constraints.made.is_empty());
            assert!(d.indexes.dropped.is_empty() && d.indexes.made.is_empty());
        });
    }

    #[test]
    fn only_a_change_the_view_shows_rebuilds_it() {
        // A tighter limit changes neither the view's columns nor their types.
        let mut new = base();
        new["fields"][0]["max_length"] = json!(10);
        with_diff(base(), new, |d| {
            assert!(!d.rebuild_view && !d.fns_change && !d.access_change);
            assert_eq!(d.constraints.dropped, vec![ident("item_title_max_length")]);
            assert_eq!(d.constraints.made.len(), 1);
        });
        // The owner column joins the view.
        let mut new = base();
        new["access"] = json!({"read": "owner"});
        with_diff(base(), new, |d| {
            assert!(d.rebuild_view && d.access_change && d.owner_after && !d.owner_before);
            // A junction's links follow the owner of their record.
            assert!(d.junction_access_change);
        });
    }
}
