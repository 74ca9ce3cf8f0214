//! Pairing the two sides of a change: fields by id, constraints and indexes by
//! what they check after renames, and the ids a definition carries over.

use super::*;

/// The pointer of a field of the new definition, by id.
pub(super) fn pointer(side: &Side<'_>, id: uuid::Uuid) -> String {
    let at = side.normalized["fields"]
        .as_array()
        .and_then(|fs| fs.iter().position(|f| f["id"] == Value::String(id.to_string())));
    at.map_or_else(|| "/fields".to_string(), |i| format!("/fields/{i}"))
}

/// An index: name, columns, GIN.
pub(super) type IndexSpec = (Ident, Vec<Ident>, bool);

/// Constraints (but the primary key) and indexes that creating `e` makes on its table.
pub(super) fn table_objects(e: &Entity, labels: &Labels) -> (Vec<Constraint>, Vec<IndexSpec>) {
    let mut constraints = Vec::new();
    let mut indexes = Vec::new();
    for step in plan::create_entity(e, labels)
        .into_iter()
        .chain(relations::steps(e, labels))
    {
        match step {
            Step::CreateTable(t) if t.name == e.name => constraints.extend(
                t.constraints
                    .into_iter()
                    .filter(|c| !matches!(c.kind, ConstraintKind::PrimaryKey(_))),
            ),
            Step::AddConstraint {
                table, constraint, ..
            } if table == e.name => constraints.push(constraint),
            Step::CreateIndex {
                table,
                name,
                columns,
                gin,
                ..
            } if table == e.name => indexes.push((name, columns, gin)),
            _ => {}
        }
    }
    (constraints, indexes)
}

/// Column names after the field renames.
pub(super) fn rename_all(cols: &[Ident], r: &HashMap<Ident, Ident>) -> Vec<Ident> {
    cols.iter().map(|c| r.get(c).unwrap_or(c).clone()).collect()
}

/// What a constraint checks, on the columns' names after the field renames.
pub(super) fn renamed_kind(kind: &ConstraintKind, r: &HashMap<Ident, Ident>) -> ConstraintKind {
    let one = |c: &Ident| r.get(c).unwrap_or(c).clone();
    match kind {
        ConstraintKind::PrimaryKey(c) => ConstraintKind::PrimaryKey(rename_all(c, r)),
        ConstraintKind::Unique(c) => ConstraintKind::Unique(rename_all(c, r)),
        ConstraintKind::Check(c, check, id) => ConstraintKind::Check(one(c), check.clone(), *id),
        ConstraintKind::ForeignKey {
            column,
            schema,
            table,
            on_delete,
        } => ConstraintKind::ForeignKey {
            column: one(column),
            schema: schema.clone(),
            table: table.clone(),
            on_delete: *on_delete,
        },
    }
}

/// Pairs old objects with new ones that are the same after renames: equal
/// names are kept, other pairs renamed; the rest is dropped (old) or made (new).
pub(super) fn match_by<T, K: PartialEq>(
    old: &[(Ident, K)],
    new: &[(Ident, K, T)],
) -> (Vec<(Ident, Ident)>, Vec<Ident>, Vec<usize>) {
    let mut used = vec![false; old.len()];
    let mut paired: Vec<Option<usize>> = vec![None; new.len()];
    // Same name and body first, so a rename never takes a kept object's partner.
    for (j, (name, body, _)) in new.iter().enumerate() {
        if let Some(i) = (0..old.len()).find(|&i| !used[i] && old[i].0 == *name && old[i].1 == *body) {
            used[i] = true;
            paired[j] = Some(i);
        }
    }
    let mut renames = Vec::new();
    for (j, (name, body, _)) in new.iter().enumerate() {
        if paired[j].is_some() {
            continue;
        }
        if let Some(i) = (0..old.len()).find(|&i| !used[i] && old[i].1 == *body) {
            used[i] = true;
            paired[j] = Some(i);
            renames.push((old[i].0.clone(), name.clone()));
        }
    }
    let dropped = (0..old.len())
        .filter(|&i| !used[i])
        .map(|i| old[i].0.clone())
        .collect();
    let made = (0..new.len()).filter(|&j| paired[j].is_none()).collect();
    (renames, dropped, made)
}

/// The view's columns, in order: a view keeps the names it was made with.
pub(super) fn view_columns(e: &Entity) -> Vec<Ident> {
    let mut columns = vec![fixed("id")];
    columns.extend(e.fields.iter().map(|f| f.name.clone()));
    columns.extend([fixed("created_at"), fixed("updated_at")]);
    if e.access.needs_owner() {
        columns.push(fixed(OWNER_COLUMN));
    }
    columns
}

/// The computed relationships of `e`'s many-to-one and one-to-one fields.
pub(super) fn own_functions(e: &Entity) -> Vec<RelationFunction> {
    let t = TenantNames::new(&e.tenant);
    e.relations
        .iter()
        .filter_map(|r| {
            let column = r.column.as_ref()?;
            Some(relations::function(&t, &e.name, &r.name, &r.target, column))
        })
        .collect()
}

/// The input definition with the stored ids filled in where it leaves them
/// out: the entity's, and each field's whose name the stored definition has.
/// A definition written by hand (no ids) then means "the same fields", and
/// one returned by `cot.entity()` keeps its ids anyway.
pub fn carry_ids(stored: &Value, input: &Value) -> Value {
    let mut out = input.clone();
    let Some(map) = out.as_object_mut() else {
        return out;
    };
    if !map.contains_key("id") {
        if let Some(id) = stored.get("id") {
            map.insert("id".into(), id.clone());
        }
    }
    let known: HashMap<&str, &Value> = stored["fields"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|f| Some((f["name"].as_str()?, f.get("id")?)))
        .collect();
    if let Some(fields) = map.get_mut("fields").and_then(Value::as_array_mut) {
        for f in fields.iter_mut().filter_map(Value::as_object_mut) {
            // Read-only keys of a definition from cot.entity() describe the
            // stored field; after a rename they would contradict the new name.
            f.remove("column");
            f.remove("junction");
            if f.contains_key("id") {
                continue;
            }
            if let Some(id) = f.get("name").and_then(Value::as_str).and_then(|n| known.get(n)) {
                f.insert("id".into(), (*id).clone());
            }
        }
    }
    out
}
