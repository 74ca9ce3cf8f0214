//! Planning: what to create or drop, as a list of steps that are plain data.
//! Nothing here writes SQL; [`crate::ddl`] renders each step. A plan can be
//! printed, recorded in the ledger and compared in tests.

use crate::literal::{DefaultValue, Literal};
use crate::names::{derived, fixed, owner_role, Ident, TenantNames};
use crate::types::{Entity, Field, FieldType, Scalar};
use std::collections::HashSet;

/// One DDL statement, as data.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// `CREATE ROLE name NOLOGIN ...`.
    CreateRole {
        /// The role.
        role: Ident,
        /// The owner role also gets NOINHERIT: it never acts through other roles.
        owner: bool,
    },
    /// `CREATE SCHEMA name AUTHORIZATION owner`.
    CreateSchema {
        /// The schema.
        schema: Ident,
    },
    /// `GRANT USAGE ON SCHEMA schema TO roles`.
    GrantSchemaUsage {
        /// The schema.
        schema: Ident,
        /// Grantees.
        roles: Vec<Ident>,
    },
    /// `GRANT role, ... TO member`: lets a login role (PostgREST's
    /// authenticator) switch to the tenant's roles.
    GrantRoles {
        /// The roles granted.
        roles: Vec<Ident>,
        /// The member.
        to: Ident,
    },
    /// `GRANT EXECUTE ON FUNCTION cot.pre_config() TO login`: PostgREST calls it
    /// as its login role when it loads its configuration.
    GrantPreConfig {
        /// The login role.
        to: Ident,
    },
    /// `GRANT EXECUTE` on Cot's definition functions to a tenant's admin role:
    /// the functions check that the caller administers the tenant it names.
    GrantDefinitionFunctions {
        /// The tenant's admin role.
        to: Ident,
    },
    /// A definition function in the tenant's API schema, for `/rpc/`
    /// ([`crate::rpc`]).
    CreateRpcFunction {
        /// The API schema.
        schema: Ident,
        /// The tenant the wrapper fixes.
        tenant: Ident,
        /// Which one.
        function: crate::rpc::Rpc,
    },
    /// `ALTER FUNCTION ... OWNER TO cot_owner`.
    SetRpcFunctionOwner {
        /// The API schema.
        schema: Ident,
        /// Which one.
        function: crate::rpc::Rpc,
    },
    /// `REVOKE ALL ON FUNCTION ... FROM PUBLIC`: functions are executable by
    /// everyone when created.
    RevokeRpcFunction {
        /// The API schema.
        schema: Ident,
        /// Which one.
        function: crate::rpc::Rpc,
    },
    /// `GRANT EXECUTE ON FUNCTION ... TO role`.
    GrantRpcFunction {
        /// The API schema.
        schema: Ident,
        /// Which one.
        function: crate::rpc::Rpc,
        /// The tenant's admin role.
        to: Ident,
    },
    /// `DROP FUNCTION ...`, before its schema goes.
    DropRpcFunction {
        /// The API schema.
        schema: Ident,
        /// Which one.
        function: crate::rpc::Rpc,
    },
    /// `GRANT EXECUTE` on the generated-documentation functions
    /// (`cot.record_schema`, `cot.openapi`, `cot.typescript`) to a tenant's
    /// admin and user roles: they check the tenant themselves.
    GrantDocumentFunctions {
        /// The roles.
        roles: Vec<Ident>,
    },
    /// `DROP OWNED BY roles`: removes every privilege granted to the roles in
    /// this database, so `DROP ROLE` can follow.
    DropOwned {
        /// The roles.
        roles: Vec<Ident>,
    },
    /// `CREATE TABLE`.
    CreateTable(Table),
    /// `CREATE INDEX`.
    CreateIndex {
        /// Schema of the table.
        schema: Ident,
        /// Table.
        table: Ident,
        /// Index name.
        name: Ident,
        /// Columns in order.
        columns: Vec<Ident>,
        /// GIN (arrays, json) rather than btree.
        gin: bool,
    },
    /// The trigger that keeps created_at and updated_at.
    CreateSystemTrigger {
        /// Schema.
        schema: Ident,
        /// Table.
        table: Ident,
        /// A junction table: it has created_at only.
        junction: bool,
    },
    /// `CREATE VIEW ... WITH (security_invoker = true) AS SELECT cols FROM table`.
    CreateView {
        /// API schema.
        schema: Ident,
        /// View name.
        name: Ident,
        /// Storage schema.
        table_schema: Ident,
        /// Table.
        table: Ident,
        /// Columns, in order.
        columns: Vec<Ident>,
    },
    /// `ALTER TABLE|VIEW ... OWNER TO cot_owner`.
    SetOwner {
        /// What kind of relation.
        kind: RelKind,
        /// Schema.
        schema: Ident,
        /// Relation.
        name: Ident,
    },
    /// `COMMENT ON ...`.
    Comment {
        /// What is commented.
        target: CommentTarget,
        /// The text.
        text: String,
    },
    /// `ALTER TABLE ... ADD CONSTRAINT` (foreign keys, added once every table of a
    /// group exists).
    AddConstraint {
        /// Schema.
        schema: Ident,
        /// Table.
        table: Ident,
        /// The constraint.
        constraint: Constraint,
    },
    /// `ALTER TABLE ... ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY`: FORCE
    /// holds the table's owner to the policies too.
    EnableRls {
        /// Schema.
        schema: Ident,
        /// Table.
        table: Ident,
    },
    /// `CREATE POLICY name ON table FOR command TO roles USING (...) WITH CHECK (...)`.
    CreatePolicy {
        /// Schema.
        schema: Ident,
        /// Table.
        table: Ident,
        /// Policy name (per table).
        name: Ident,
        /// The command it governs.
        command: crate::access::Command,
        /// The roles it applies to.
        roles: Vec<Ident>,
        /// Which existing rows it admits.
        using: Option<crate::access::Predicate>,
        /// Which new rows it admits.
        check: Option<crate::access::Predicate>,
    },
    /// `GRANT command ON table|view TO roles`.
    Grant {
        /// The privilege.
        command: crate::access::Command,
        /// Table or view.
        kind: RelKind,
        /// Schema.
        schema: Ident,
        /// Relation.
        name: Ident,
        /// Grantees.
        roles: Vec<Ident>,
    },
    /// The trigger that fills the owner column from the `sub` claim.
    CreateOwnerTrigger {
        /// Schema.
        schema: Ident,
        /// Table.
        table: Ident,
    },
    /// A PostgREST computed relationship for a many-to-one or one-to-one field:
    /// `<api>.<field>(<api>.<entity>) RETURNS SETOF <api>.<target> ROWS 1`, so
    /// `?select=title,customer(name)` embeds by the field's name. SECURITY
    /// INVOKER: the target's row security applies.
    CreateRelationFunction(RelationFunction),
    /// `ALTER FUNCTION ... OWNER TO cot_owner`.
    SetRelationFunctionOwner(RelationFunction),
    /// `DROP FUNCTION <api>.<field>(<api>.<entity>)`: before the views it
    /// takes or returns are dropped or made again.
    DropRelationFunction(RelationFunction),
    /// `ALTER TABLE ... DROP COLUMN` (a relation column whose target is dropped).
    DropColumn {
        /// Schema.
        schema: Ident,
        /// Table.
        table: Ident,
        /// Column.
        column: Ident,
    },
    /// `ALTER TABLE ... ADD COLUMN`.
    AddColumn {
        /// Schema.
        schema: Ident,
        /// Table.
        table: Ident,
        /// The column.
        column: Column,
    },
    /// `ALTER TABLE ... ALTER COLUMN` / `RENAME COLUMN`.
    AlterColumn {
        /// Schema.
        schema: Ident,
        /// Table.
        table: Ident,
        /// The column (its name before a rename).
        column: Ident,
        /// What changes.
        action: ColumnAction,
    },
    /// `ALTER TABLE ... ADD CONSTRAINT ... NOT VALID`: existing rows are not
    /// checked yet ([`Step::ValidateConstraint`] does that, under a lighter lock).
    AddConstraintNotValid {
        /// Schema.
        schema: Ident,
        /// Table.
        table: Ident,
        /// A CHECK or FOREIGN KEY constraint.
        constraint: Constraint,
    },
    /// `ALTER TABLE ... VALIDATE CONSTRAINT`.
    ValidateConstraint {
        /// Schema.
        schema: Ident,
        /// Table.
        table: Ident,
        /// Constraint.
        name: Ident,
    },
    /// `ALTER TABLE ... DROP CONSTRAINT`.
    DropConstraint {
        /// Schema.
        schema: Ident,
        /// Table.
        table: Ident,
        /// Constraint.
        name: Ident,
    },
    /// `ALTER TABLE ... RENAME CONSTRAINT` (its index is renamed with it).
    RenameConstraint {
        /// Schema.
        schema: Ident,
        /// Table.
        table: Ident,
        /// Old name.
        from: Ident,
        /// New name.
        to: Ident,
    },
    /// `DROP INDEX`.
    DropIndex {
        /// Schema.
        schema: Ident,
        /// Index.
        name: Ident,
    },
    /// `ALTER INDEX ... RENAME TO`.
    RenameIndex {
        /// Schema.
        schema: Ident,
        /// Old name.
        from: Ident,
        /// New name.
        to: Ident,
    },
    /// `ALTER TABLE|VIEW ... RENAME TO` (a junction table when its relation is renamed).
    RenameRelation {
        /// Table or view.
        kind: RelKind,
        /// Schema.
        schema: Ident,
        /// Old name.
        from: Ident,
        /// New name.
        to: Ident,
    },
    /// `DROP POLICY ... ON table`.
    DropPolicy {
        /// Schema.
        schema: Ident,
        /// Table.
        table: Ident,
        /// Policy.
        name: Ident,
    },
    /// `REVOKE command ON table|view FROM roles`.
    Revoke {
        /// The privilege.
        command: crate::access::Command,
        /// Table or view.
        kind: RelKind,
        /// Schema.
        schema: Ident,
        /// Relation.
        name: Ident,
        /// The roles losing it.
        roles: Vec<Ident>,
    },
    /// `DROP TRIGGER "cot_owner_column"` when no rule needs the owner any more.
    DropOwnerTrigger {
        /// Schema.
        schema: Ident,
        /// Table.
        table: Ident,
    },
    /// `UPDATE table SET column = 'to' WHERE column = 'from'` (or the same on
    /// every item of an array): an enum value renamed.
    RenameValue {
        /// Schema.
        schema: Ident,
        /// Table.
        table: Ident,
        /// Column.
        column: Ident,
        /// An array of enum values rather than one value.
        array: bool,
        /// Old value.
        from: String,
        /// New value.
        to: String,
    },
    /// `DROP VIEW` / `DROP TABLE` (RESTRICT: dependent objects stop it).
    DropRelation {
        /// What kind of relation.
        kind: RelKind,
        /// Schema.
        schema: Ident,
        /// Relation.
        name: Ident,
    },
    /// `DROP SCHEMA`, CASCADE only when asked.
    DropSchema {
        /// Schema.
        schema: Ident,
        /// Drop what is inside too.
        cascade: bool,
    },
    /// `DROP ROLE`.
    DropRole {
        /// Role.
        role: Ident,
    },
}

impl Step {
    /// A short name for the kind of step, as recorded in the ledger.
    pub fn kind_name(&self) -> &'static str {
        match self {
            Step::CreateRole { .. } => "create_role",
            Step::CreateSchema { .. } => "create_schema",
            Step::GrantSchemaUsage { .. } => "grant_schema_usage",
            Step::GrantRoles { .. } => "grant_roles",
            Step::GrantPreConfig { .. }
            | Step::GrantDefinitionFunctions { .. }
            | Step::GrantDocumentFunctions { .. } => "grant_execute",
            Step::DropOwned { .. } => "drop_owned",
            Step::CreateRpcFunction { .. } => "create_function",
            Step::SetRpcFunctionOwner { .. } => "set_owner",
            Step::RevokeRpcFunction { .. } => "revoke_execute",
            Step::GrantRpcFunction { .. } => "grant_execute",
            Step::DropRpcFunction { .. } => "drop_function",
            Step::CreateTable(_) => "create_table",
            Step::CreateIndex { .. } => "create_index",
            Step::CreateSystemTrigger { .. } => "create_trigger",
            Step::CreateView { .. } => "create_view",
            Step::SetOwner { .. } => "set_owner",
            Step::Comment { .. } => "comment",
            Step::AddConstraint { .. } => "add_constraint",
            Step::CreateRelationFunction(_) => "create_function",
            Step::SetRelationFunctionOwner(_) => "set_owner",
            Step::DropRelationFunction(_) => "drop_function",
            Step::EnableRls { .. } => "enable_rls",
            Step::CreatePolicy { .. } => "create_policy",
            Step::Grant { .. } => "grant",
            Step::CreateOwnerTrigger { .. } => "create_trigger",
            Step::DropColumn { .. } => "drop_column",
            Step::AddColumn { .. } => "add_column",
            Step::AlterColumn { action, .. } => action.kind_name(),
            Step::AddConstraintNotValid { .. } => "add_constraint_not_valid",
            Step::ValidateConstraint { .. } => "validate_constraint",
            Step::DropConstraint { .. } => "drop_constraint",
            Step::RenameConstraint { .. } => "rename_constraint",
            Step::DropIndex { .. } => "drop_index",
            Step::RenameIndex { .. } => "rename_index",
            Step::RenameRelation { .. } => "rename_relation",
            Step::DropPolicy { .. } => "drop_policy",
            Step::Revoke { .. } => "revoke",
            Step::DropOwnerTrigger { .. } => "drop_trigger",
            Step::RenameValue { .. } => "rename_value",
            Step::DropRelation { .. } => "drop_relation",
            Step::DropSchema { .. } => "drop_schema",
            Step::DropRole { .. } => "drop_role",
        }
    }

    /// Relations this step creates in a schema (tables, views, indexes and the
    /// indexes behind unique and primary-key constraints share one namespace per
    /// schema), so a clash can be reported before anything runs.
    pub fn created_relations(&self) -> Vec<(Ident, Ident)> {
        match self {
            Step::CreateTable(t) => {
                let mut out = vec![(t.schema.clone(), t.name.clone())];
                for c in &t.constraints {
                    if matches!(c.kind, ConstraintKind::PrimaryKey(_) | ConstraintKind::Unique(_)) {
                        out.push((t.schema.clone(), c.name.clone()));
                    }
                }
                out
            }
            Step::CreateIndex { schema, name, .. } | Step::CreateView { schema, name, .. } => {
                vec![(schema.clone(), name.clone())]
            }
            _ => Vec::new(),
        }
    }
}

/// A change to one column.
#[derive(Debug, Clone, PartialEq)]
pub enum ColumnAction {
    /// `RENAME COLUMN ... TO`.
    Rename(Ident),
    /// `ALTER COLUMN ... TYPE t USING ...`.
    Type {
        /// The new Postgres type (from [`FieldType::sql_type`]).
        sql_type: String,
        /// Values that do not convert become NULL instead of failing the change
        /// (only when the caller allowed data loss).
        null_failures: bool,
    },
    /// `SET NOT NULL`.
    SetNotNull,
    /// `DROP NOT NULL`.
    DropNotNull,
    /// `SET DEFAULT`.
    SetDefault(ColumnDefault),
    /// `DROP DEFAULT`.
    DropDefault,
}

impl ColumnAction {
    /// The ledger's name for it.
    pub fn kind_name(&self) -> &'static str {
        match self {
            ColumnAction::Rename(_) => "rename_column",
            ColumnAction::Type { .. } => "alter_column_type",
            ColumnAction::SetNotNull => "set_not_null",
            ColumnAction::DropNotNull => "drop_not_null",
            ColumnAction::SetDefault(_) => "set_default",
            ColumnAction::DropDefault => "drop_default",
        }
    }
}

/// What a relation's computed-relationship function joins.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelationFunction {
    /// The API schema.
    pub schema: Ident,
    /// The relation field's name: the function's name.
    pub name: Ident,
    /// The entity holding the relation (the argument's row type).
    pub source: Ident,
    /// The target entity (the result's row type).
    pub target: Ident,
    /// The foreign-key column, `<name>_id`.
    pub column: Ident,
}

/// A table or a view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RelKind {
    /// Table.
    Table,
    /// View.
    View,
}

/// What a COMMENT is on.
#[derive(Debug, Clone, PartialEq)]
pub enum CommentTarget {
    /// A schema.
    Schema(Ident),
    /// A table or view.
    Relation(RelKind, Ident, Ident),
    /// A column of a table or view.
    Column(RelKind, Ident, Ident, Ident),
}

/// A table to create.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    /// Schema.
    pub schema: Ident,
    /// Name.
    pub name: Ident,
    /// Columns in order, system columns included.
    pub columns: Vec<Column>,
    /// Table constraints: primary key, checks, unique.
    pub constraints: Vec<Constraint>,
}

/// A column.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    /// Name.
    pub name: Ident,
    /// Postgres type text, built by [`FieldType::sql_type`] from a closed set.
    pub sql_type: String,
    /// NOT NULL.
    pub not_null: bool,
    /// DEFAULT.
    pub default: Option<ColumnDefault>,
}

/// A column default, typed.
#[derive(Debug, Clone, PartialEq)]
pub enum ColumnDefault {
    /// A user default of the column's scalar type.
    User(DefaultValue, Scalar, bool),
    /// `cot.uuid_generate_v7()` for `id`.
    NewId,
    /// `now()` for the timestamps.
    Now,
}

/// A named table constraint.
#[derive(Debug, Clone, PartialEq)]
pub struct Constraint {
    /// Name (unique in the table; index-backed ones unique in the schema).
    pub name: Ident,
    /// What it checks.
    pub kind: ConstraintKind,
}

/// The kinds of constraint Cot generates.
#[derive(Debug, Clone, PartialEq)]
pub enum ConstraintKind {
    /// PRIMARY KEY over columns.
    PrimaryKey(Vec<Ident>),
    /// UNIQUE over columns.
    Unique(Vec<Ident>),
    /// CHECK.
    Check(Ident, Check),
    /// FOREIGN KEY (column) REFERENCES schema.table (id) ON DELETE action.
    ForeignKey {
        /// The referencing column.
        column: Ident,
        /// Schema of the referenced table.
        schema: Ident,
        /// The referenced table.
        table: Ident,
        /// ON DELETE.
        on_delete: crate::types::OnDelete,
    },
}

/// A CHECK on one column, typed so the renderer never sees user text.
#[derive(Debug, Clone, PartialEq)]
pub enum Check {
    /// `char_length(c) >= n`.
    MinLength(u64),
    /// `char_length(c) <= n`.
    MaxLength(u64),
    /// `c ~ pattern`.
    Pattern(String),
    /// `c >= literal`.
    Min(Literal, Scalar),
    /// `c <= literal`.
    Max(Literal, Scalar),
    /// `c = ANY(values)`.
    OneOf(Vec<String>),
    /// One dimension and no NULL items.
    ArrayShape,
    /// Every item in values.
    ArrayOneOf(Vec<String>),
    /// Every item matches the pattern (via `cot.array_items_match`).
    ArrayPattern(String),
}

/// Gives each generated object its derived name, making it unique among the
/// names this plan uses (two derivations can meet: an index on field `a_b` and
/// a compound index on `a`, `b`).
#[derive(Default)]
struct Names(HashSet<Ident>);

impl Names {
    fn take(&mut self, parts: &[&str]) -> Ident {
        let mut name = derived(parts);
        let mut n = 2;
        while self.0.contains(&name) {
            let suffix = n.to_string();
            let mut p: Vec<&str> = parts.to_vec();
            p.push(&suffix);
            name = derived(&p);
            n += 1;
        }
        self.0.insert(name.clone());
        name
    }
}

/// The steps that create a tenant. `create_owner` when the owner role does not
/// exist yet in this cluster.
/// `authenticators` are the login roles registered with
/// `cot.add_authenticator`: each becomes a member of the new tenant's roles.
pub fn create_tenant(
    t: &TenantNames,
    display_name: &str,
    create_owner: bool,
    authenticators: &[Ident],
) -> Vec<Step> {
    let mut steps = Vec::new();
    if create_owner {
        steps.push(Step::CreateRole {
            role: owner_role(),
            owner: true,
        });
    }
    for role in t.roles() {
        steps.push(Step::CreateRole {
            role: role.clone(),
            owner: false,
        });
    }
    steps.push(Step::CreateSchema {
        schema: t.storage_schema.clone(),
    });
    steps.push(Step::CreateSchema {
        schema: t.api_schema.clone(),
    });
    steps.push(Step::GrantSchemaUsage {
        schema: t.api_schema.clone(),
        roles: t.roles().into_iter().cloned().collect(),
    });
    steps.push(Step::GrantDefinitionFunctions {
        to: t.admin_role.clone(),
    });
    steps.push(Step::GrantDocumentFunctions {
        roles: vec![t.admin_role.clone(), t.user_role.clone()],
    });
    steps.extend(rpc_steps(t));
    for login in authenticators {
        steps.push(Step::GrantRoles {
            roles: t.roles().into_iter().cloned().collect(),
            to: login.clone(),
        });
    }
    steps.push(Step::Comment {
        target: CommentTarget::Schema(t.api_schema.clone()),
        text: format!("{display_name}: REST API (Cot tenant {})", t.slug),
    });
    steps.push(Step::Comment {
        target: CommentTarget::Schema(t.storage_schema.clone()),
        text: format!(
            "{display_name}: tables (Cot tenant {}); not exposed over HTTP",
            t.slug
        ),
    });
    steps
}

/// The tenant's `/rpc/` functions: created, owned by the owner role,
/// executable by the tenant's admin role alone, or (`query`) by its three.
fn rpc_steps(t: &TenantNames) -> Vec<Step> {
    let schema = &t.api_schema;
    crate::rpc::ALL
        .iter()
        .flat_map(|&function| {
            let to: Vec<Ident> = if function.for_every_role() {
                t.roles().into_iter().cloned().collect()
            } else {
                vec![t.admin_role.clone()]
            };
            [
                Step::CreateRpcFunction {
                    schema: schema.clone(),
                    tenant: t.slug.clone(),
                    function,
                },
                Step::SetRpcFunctionOwner {
                    schema: schema.clone(),
                    function,
                },
                Step::RevokeRpcFunction {
                    schema: schema.clone(),
                    function,
                },
            ]
            .into_iter()
            .chain(to.into_iter().map(move |to| Step::GrantRpcFunction {
                schema: schema.clone(),
                function,
                to,
            }))
        })
        .collect()
}

/// The steps that drop a tenant: its `/rpc/` functions (so an empty API schema
/// drops without CASCADE), its schemas, then its roles.
pub fn drop_tenant(t: &TenantNames, cascade: bool) -> Vec<Step> {
    let mut steps: Vec<Step> = crate::rpc::ALL
        .iter()
        .map(|&function| Step::DropRpcFunction {
            schema: t.api_schema.clone(),
            function,
        })
        .collect();
    steps.extend([
        Step::DropSchema {
            schema: t.api_schema.clone(),
            cascade,
        },
        Step::DropSchema {
            schema: t.storage_schema.clone(),
            cascade,
        },
    ]);
    steps.push(Step::DropOwned {
        roles: t.roles().into_iter().cloned().collect(),
    });
    for role in t.roles().into_iter().rev() {
        steps.push(Step::DropRole { role: role.clone() });
    }
    steps
}

/// The steps that create an entity: its table with every constraint, indexes,
/// the system-column trigger, the API view, ownership and comments.
pub fn create_entity(e: &Entity, labels: &Labels) -> Vec<Step> {
    let t = TenantNames::new(&e.tenant);
    let table = &e.name;
    let mut names = Names::default();
    let mut columns = vec![Column {
        name: fixed("id"),
        sql_type: "uuid".into(),
        not_null: true,
        default: Some(ColumnDefault::NewId),
    }];
    let mut constraints = vec![Constraint {
        name: names.take(&[table.as_str(), "pkey"]),
        kind: ConstraintKind::PrimaryKey(vec![fixed("id")]),
    }];
    let mut indexes = Vec::new();
    for f in &e.fields {
        columns.push(column(f));
        for (suffix, check) in checks(f) {
            constraints.push(Constraint {
                name: names.take(&[table.as_str(), f.name.as_str(), suffix]),
                kind: ConstraintKind::Check(f.name.clone(), check),
            });
        }
        if f.unique {
            constraints.push(Constraint {
                name: names.take(&[table.as_str(), f.name.as_str(), "key"]),
                kind: ConstraintKind::Unique(vec![f.name.clone()]),
            });
        } else if f.index {
            indexes.push((vec![f.name.clone()], f.ty.wants_gin()));
        }
    }
    for sys in ["created_at", "updated_at"] {
        columns.push(Column {
            name: fixed(sys),
            sql_type: "timestamptz".into(),
            not_null: true,
            default: Some(ColumnDefault::Now),
        });
    }
    if e.access.needs_owner() {
        columns.push(Column {
            name: fixed(crate::access::OWNER_COLUMN),
            sql_type: "text".into(),
            not_null: false,
            default: None,
        });
    }
    for idx in &e.indexes {
        if idx.unique {
            let mut parts = vec![table.as_str()];
            parts.extend(idx.columns.iter().map(Ident::as_str));
            parts.push("key");
            constraints.push(Constraint {
                name: names.take(&parts),
                kind: ConstraintKind::Unique(idx.columns.clone()),
            });
        } else {
            indexes.push((idx.columns.clone(), false));
        }
    }

    let mut steps = vec![Step::CreateTable(Table {
        schema: t.storage_schema.clone(),
        name: table.clone(),
        columns,
        constraints,
    })];
    for (cols, gin) in indexes {
        let mut parts = vec![table.as_str()];
        parts.extend(cols.iter().map(Ident::as_str));
        parts.push("idx");
        steps.push(Step::CreateIndex {
            schema: t.storage_schema.clone(),
            table: table.clone(),
            name: names.take(&parts),
            columns: cols,
            gin,
        });
    }
    steps.push(Step::CreateSystemTrigger {
        schema: t.storage_schema.clone(),
        table: table.clone(),
        junction: false,
    });
    if e.access.needs_owner() {
        steps.push(Step::CreateOwnerTrigger {
            schema: t.storage_schema.clone(),
            table: table.clone(),
        });
    }
    steps.push(Step::SetOwner {
        kind: RelKind::Table,
        schema: t.storage_schema.clone(),
        name: table.clone(),
    });
    steps.extend(comments(e, labels, RelKind::Table));
    steps.extend(view_steps(e, labels));
    steps.extend(access_steps(e));
    steps
}

/// Row-level security and grants for an entity's table and view.
pub fn access_steps(e: &Entity) -> Vec<Step> {
    crate::access::steps(&e.tenant, &e.name, e.access)
}

/// The API view of an entity: created over every column of its table, owned by
/// the owner role, commented. Also what regenerates the view after a column
/// goes.
pub fn view_steps(e: &Entity, labels: &Labels) -> Vec<Step> {
    let t = TenantNames::new(&e.tenant);
    let mut columns = vec![fixed("id")];
    columns.extend(e.fields.iter().map(|f| f.name.clone()));
    columns.extend([fixed("created_at"), fixed("updated_at")]);
    if e.access.needs_owner() {
        columns.push(fixed(crate::access::OWNER_COLUMN));
    }
    let mut steps = vec![
        Step::CreateView {
            schema: t.api_schema.clone(),
            name: e.name.clone(),
            table_schema: t.storage_schema.clone(),
            table: e.name.clone(),
            columns,
        },
        Step::SetOwner {
            kind: RelKind::View,
            schema: t.api_schema.clone(),
            name: e.name.clone(),
        },
    ];
    steps.extend(comments(e, labels, RelKind::View));
    steps
}

/// Comments on the table or the view and their columns: PostgREST shows the
/// view's in its OpenAPI output; the table's are for whoever reads `\d+`. A
/// field without a description is described by its label (an empty
/// description would remove the comment, so it falls back to the label too).
pub fn comments(e: &Entity, labels: &Labels, kind: RelKind) -> Vec<Step> {
    let t = TenantNames::new(&e.tenant);
    let schema = match kind {
        RelKind::Table => &t.storage_schema,
        RelKind::View => &t.api_schema,
    };
    let described = |d: &Option<String>| d.clone().filter(|d| !d.is_empty());
    let mut steps = vec![Step::Comment {
        target: CommentTarget::Relation(kind, schema.clone(), e.name.clone()),
        text: described(&e.description).unwrap_or_else(|| labels.entity.clone()),
    }];
    for f in &e.fields {
        let label = labels
            .columns
            .get(f.name.as_str())
            .cloned()
            .unwrap_or_else(|| f.name.to_string());
        steps.push(Step::Comment {
            target: CommentTarget::Column(kind, schema.clone(), e.name.clone(), f.name.clone()),
            text: described(&f.description).unwrap_or(label),
        });
    }
    steps
}

/// The display labels of an entity and its fields, from its normalized definition.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Labels {
    /// The entity's label.
    pub entity: String,
    /// Label by column name (a relation's label under its `<name>_id` column).
    pub columns: std::collections::HashMap<String, String>,
    /// Label by relation field name.
    pub relations: std::collections::HashMap<String, String>,
}

impl Labels {
    /// Reads the labels of a normalized definition.
    pub fn of(normalized: &serde_json::Value) -> Labels {
        let text = |v: &serde_json::Value| v.as_str().unwrap_or_default().to_string();
        let mut labels = Labels {
            entity: text(&normalized["label"]),
            ..Labels::default()
        };
        for f in normalized["fields"].as_array().into_iter().flatten() {
            let label = text(&f["label"]);
            if f["type"] == "relation" {
                labels.relations.insert(text(&f["name"]), label.clone());
                if f["column"].is_string() {
                    labels.columns.insert(text(&f["column"]), label);
                }
            } else {
                labels.columns.insert(text(&f["name"]), label);
            }
        }
        labels
    }
}

/// The steps that drop an entity: view first, it depends on the table.
pub fn drop_entity(tenant: &TenantNames, name: &Ident) -> Vec<Step> {
    vec![
        Step::DropRelation {
            kind: RelKind::View,
            schema: tenant.api_schema.clone(),
            name: name.clone(),
        },
        Step::DropRelation {
            kind: RelKind::Table,
            schema: tenant.storage_schema.clone(),
            name: name.clone(),
        },
    ]
}

/// The column of a field.
pub fn column(f: &Field) -> Column {
    Column {
        name: f.name.clone(),
        sql_type: f.ty.sql_type(),
        not_null: f.required,
        default: f
            .default
            .clone()
            .map(|d| ColumnDefault::User(d, f.ty.scalar().clone(), matches!(f.ty, FieldType::Array(_)))),
    }
}

/// The CHECK constraints a field needs, each with its name suffix.
fn checks(f: &Field) -> Vec<(&'static str, Check)> {
    let mut out = Vec::new();
    let scalar = f.ty.scalar();
    match &f.ty {
        FieldType::Scalar(s) => {
            if let Some(n) = f.min_length {
                out.push(("min_length", Check::MinLength(n)));
            }
            if let Some(n) = f.max_length {
                out.push(("max_length", Check::MaxLength(n)));
            }
            if let Some(p) = &f.pattern {
                out.push(("pattern", Check::Pattern(p.clone())));
            }
            if let Some(p) = s.format_pattern() {
                out.push(("format", Check::Pattern(p.to_string())));
            }
            if let Scalar::Enum(values) = s {
                out.push(("values", Check::OneOf(values.clone())));
            }
            if let Some(l) = &f.min {
                out.push(("min", Check::Min(l.clone(), scalar.clone())));
            }
            if let Some(l) = &f.max {
                out.push(("max", Check::Max(l.clone(), scalar.clone())));
            }
        }
        FieldType::Array(s) => {
            out.push(("items", Check::ArrayShape));
            if let Scalar::Enum(values) = s {
                out.push(("values", Check::ArrayOneOf(values.clone())));
            }
            if let Some(p) = s.format_pattern() {
                out.push(("format", Check::ArrayPattern(p.to_string())));
            }
        }
    }
    out
}
