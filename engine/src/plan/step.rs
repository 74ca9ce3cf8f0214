//! [`Step`]: one DDL statement as data. [`crate::ddl`] renders each variant;
//! nothing here writes SQL.

use super::{
    Column, ColumnAction, ColumnDefault, CommentTarget, Constraint, ConstraintKind, RelKind,
    RelationFunction, Table,
};
use crate::access::{Command, Predicate};
use crate::names::Ident;
use crate::rpc::Rpc;

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
    /// `ALTER ROLE login SET plan_cache_mode = force_generic_plan` (or
    /// `RESET` it): a PostgREST login role without `cot.pre_request`, whose
    /// job this was, keeps each request's plan per connection
    /// (docs/postgrest.md, "Tokens only").
    SetLoginGenericPlans {
        /// The login role.
        role: Ident,
        /// Set it (true) or reset it (false).
        on: bool,
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
        function: Rpc,
    },
    /// `ALTER FUNCTION ... OWNER TO cot_owner`.
    SetRpcFunctionOwner {
        /// The API schema.
        schema: Ident,
        /// Which one.
        function: Rpc,
    },
    /// `REVOKE ALL ON FUNCTION ... FROM PUBLIC`: functions are executable by
    /// everyone when created.
    RevokeRpcFunction {
        /// The API schema.
        schema: Ident,
        /// Which one.
        function: Rpc,
    },
    /// `GRANT EXECUTE ON FUNCTION ... TO role`.
    GrantRpcFunction {
        /// The API schema.
        schema: Ident,
        /// Which one.
        function: Rpc,
        /// The tenant's admin role.
        to: Ident,
    },
    /// `DROP FUNCTION ...`, before its schema goes.
    DropRpcFunction {
        /// The API schema.
        schema: Ident,
        /// Which one.
        function: Rpc,
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
    /// `ALTER VIEW ... ALTER COLUMN ... SET DEFAULT` (or `DROP DEFAULT`): a
    /// view column carries its table column's default, so an INSERT through
    /// the view that says `DEFAULT` (PostgREST's `Prefer: missing=default`)
    /// gets the default and not NULL.
    SetViewDefault {
        /// API schema.
        schema: Ident,
        /// View name.
        view: Ident,
        /// Column.
        column: Ident,
        /// The default; `None` drops it.
        default: Option<ColumnDefault>,
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
        command: Command,
        /// The roles it applies to.
        roles: Vec<Ident>,
        /// Which existing rows it admits.
        using: Option<Predicate>,
        /// Which new rows it admits.
        check: Option<Predicate>,
    },
    /// `GRANT command ON table|view TO roles`.
    Grant {
        /// The privilege.
        command: Command,
        /// Table or view.
        kind: RelKind,
        /// Schema.
        schema: Ident,
        /// Relation.
        name: Ident,
        /// Grantees.
        roles: Vec<Ident>,
    },
    /// `CREATE TABLE IF NOT EXISTS` the tenant's change log
    /// ([`crate::plan::history`]) and its index by record.
    CreateChangeLog {
        /// Storage schema.
        schema: Ident,
    },
    /// `DROP TABLE IF EXISTS` the tenant's change log, as its tenant goes.
    DropChangeLog {
        /// Storage schema.
        schema: Ident,
    },
    /// A statement-level trigger writing the rows `command` changed in `table`
    /// to the change log, under the name `entity`, with the record's id from
    /// `record_column`.
    CreateHistoryTrigger {
        /// Schema.
        schema: Ident,
        /// Table.
        table: Ident,
        /// The name the changes are logged under (the entity, or the junction).
        entity: Ident,
        /// The column holding the record's id (`id`, or a junction's source column).
        record_column: Ident,
        /// INSERT, UPDATE or DELETE.
        command: crate::access::Command,
    },
    /// An entity's workflow trigger function ([`crate::plan::workflow`]),
    /// made or made again in place.
    CreateWorkflowFunction {
        /// The storage schema.
        schema: Ident,
        /// The function.
        name: Ident,
        /// The tenant.
        tenant: Ident,
        /// The entity's table (and name in the change log).
        table: Ident,
        /// What it enforces.
        workflow: Box<crate::workflow::Workflow>,
        /// Each transition's guard, read against the entity's columns.
        guards: Vec<Option<crate::query::Filter>>,
    },
    /// `CREATE TRIGGER "cot_workflow" BEFORE INSERT OR UPDATE OF <state> ...`.
    CreateWorkflowTrigger {
        /// The storage schema.
        schema: Ident,
        /// The table.
        table: Ident,
        /// The state column.
        column: Ident,
        /// The trigger function.
        function: Ident,
    },
    /// `DROP FUNCTION IF EXISTS` of a workflow trigger function.
    DropWorkflowFunction {
        /// The storage schema.
        schema: Ident,
        /// The function.
        name: Ident,
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
        command: Command,
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
    /// `DROP TRIGGER IF EXISTS`: one of Cot's triggers, before it is made
    /// again by [`crate::regenerate`].
    DropTriggerIfExists {
        /// Schema.
        schema: Ident,
        /// Table.
        table: Ident,
        /// Trigger.
        name: Ident,
    },
    /// `REVOKE ALL ON TABLE ... FROM PUBLIC, roles`: every privilege on a
    /// table or view goes before the access rules grant theirs again.
    RevokeAll {
        /// Schema.
        schema: Ident,
        /// Table or view.
        name: Ident,
        /// The tenant's roles (PUBLIC is always named).
        roles: Vec<Ident>,
    },
    /// The inner step's object made again in place: `CREATE OR REPLACE` for a
    /// view or a function (their dependents stay); any other step as it is.
    Replace(Box<Step>),
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
            Step::SetLoginGenericPlans { .. } => "alter_role",
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
            Step::SetViewDefault { .. } => "set_view_default",
            Step::SetOwner { .. } => "set_owner",
            Step::Comment { .. } => "comment",
            Step::AddConstraint { .. } => "add_constraint",
            Step::CreateRelationFunction(_) => "create_function",
            Step::SetRelationFunctionOwner(_) => "set_owner",
            Step::DropRelationFunction(_) => "drop_function",
            Step::EnableRls { .. } => "enable_rls",
            Step::CreatePolicy { .. } => "create_policy",
            Step::Grant { .. } => "grant",
            Step::CreateOwnerTrigger { .. }
            | Step::CreateHistoryTrigger { .. }
            | Step::CreateWorkflowTrigger { .. } => "create_trigger",
            Step::CreateWorkflowFunction { .. } => "create_function",
            Step::DropWorkflowFunction { .. } => "drop_function",
            Step::CreateChangeLog { .. } => "create_table",
            Step::DropChangeLog { .. } => "drop_relation",
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
            Step::DropOwnerTrigger { .. } | Step::DropTriggerIfExists { .. } => "drop_trigger",
            Step::RevokeAll { .. } => "revoke",
            Step::Replace(inner) => inner.kind_name(),
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
