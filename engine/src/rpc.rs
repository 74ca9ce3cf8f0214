//! The functions each tenant's API schema offers over PostgREST's `/rpc/`:
//! the definition functions, and `query`. Cot's own functions live in `cot`,
//! which PostgREST never exposes (every SECURITY DEFINER function stays outside
//! the exposed schemas), so each tenant gets thin SECURITY INVOKER wrappers,
//! `<slug>.create_entity(definition)` and so on, that fix the tenant and call
//! the `cot` function as the caller. Only the tenant's admin role may execute
//! the definition functions; `query` is for all three of its roles, and reads
//! as the caller, so grants and row security decide what it returns. The `cot`
//! function checks again.

/// A wrapper in a tenant's API schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rpc {
    /// `validate_entity(definition jsonb) RETURNS jsonb`.
    ValidateEntity,
    /// `plan_entity(definition jsonb, options jsonb DEFAULT '{}') RETURNS jsonb`.
    PlanEntity,
    /// `create_entity(definition jsonb) RETURNS jsonb`.
    CreateEntity,
    /// `create_entities(definitions jsonb) RETURNS jsonb`.
    CreateEntities,
    /// `alter_entity(definition jsonb, options jsonb DEFAULT '{}') RETURNS jsonb`.
    AlterEntity,
    /// `drop_entity(name text, options jsonb DEFAULT '{}') RETURNS void`.
    DropEntity,
    /// `entity(name text) RETURNS jsonb`.
    Entity,
    /// `entities() RETURNS TABLE (...)`.
    Entities,
    /// `export_schema() RETURNS jsonb`.
    ExportSchema,
    /// `apply_schema(bundle jsonb, options jsonb DEFAULT '{}') RETURNS jsonb`.
    ApplySchema,
    /// `query(entity text, query jsonb DEFAULT '{}') RETURNS jsonb`: the
    /// QueryBuilder (`cot.query`), for the tenant's anon, user and admin roles.
    Query,
}

/// Every wrapper, in the order they are created.
pub const ALL: [Rpc; 11] = [
    Rpc::ValidateEntity,
    Rpc::PlanEntity,
    Rpc::CreateEntity,
    Rpc::CreateEntities,
    Rpc::AlterEntity,
    Rpc::DropEntity,
    Rpc::Entity,
    Rpc::Entities,
    Rpc::ExportSchema,
    Rpc::ApplySchema,
    Rpc::Query,
];

/// The `cot` functions the wrappers call, and `cot.check`, by signature: a
/// tenant's admin role is granted EXECUTE on these (the functions check the
/// tenant themselves).
pub const COT_FUNCTIONS: [&str; 13] = [
    "cot.with_tenant(jsonb, text)",
    "cot.validate_entity(jsonb)",
    "cot.plan_entity(jsonb, jsonb)",
    "cot.create_entity(jsonb)",
    "cot.create_entities(jsonb)",
    "cot.alter_entity(jsonb, jsonb)",
    "cot.drop_entity(text, text, jsonb)",
    "cot.entity(text, text)",
    "cot.entities(text)",
    "cot.export_schema(text)",
    "cot.apply_schema(text, jsonb, jsonb)",
    "cot.check(text)",
    "cot.explain_query(text, text, jsonb, boolean)",
];

impl Rpc {
    /// The function's name in the API schema (the `/rpc/<name>` path).
    pub fn name(self) -> &'static str {
        match self {
            Rpc::ValidateEntity => "validate_entity",
            Rpc::PlanEntity => "plan_entity",
            Rpc::CreateEntity => "create_entity",
            Rpc::CreateEntities => "create_entities",
            Rpc::AlterEntity => "alter_entity",
            Rpc::DropEntity => "drop_entity",
            Rpc::Entity => "entity",
            Rpc::Entities => "entities",
            Rpc::ExportSchema => "export_schema",
            Rpc::ApplySchema => "apply_schema",
            Rpc::Query => "query",
        }
    }

    /// Argument types, as `ALTER`/`DROP FUNCTION` name them.
    pub fn arg_types(self) -> &'static str {
        match self {
            Rpc::ValidateEntity | Rpc::CreateEntity | Rpc::CreateEntities => "jsonb",
            Rpc::PlanEntity | Rpc::AlterEntity => "jsonb, jsonb",
            Rpc::DropEntity => "text, jsonb",
            Rpc::Entity => "text",
            Rpc::Entities | Rpc::ExportSchema => "",
            Rpc::ApplySchema => "jsonb, jsonb",
            Rpc::Query => "text, jsonb",
        }
    }

    /// Named parameters with defaults: PostgREST matches the keys of a request
    /// body to these names.
    pub fn params(self) -> &'static str {
        match self {
            Rpc::ValidateEntity | Rpc::CreateEntity => "definition jsonb",
            Rpc::CreateEntities => "definitions jsonb",
            Rpc::PlanEntity | Rpc::AlterEntity => "definition jsonb, options jsonb DEFAULT '{}'",
            Rpc::DropEntity => "name text, options jsonb DEFAULT '{}'",
            Rpc::Entity => "name text",
            Rpc::Entities | Rpc::ExportSchema => "",
            Rpc::ApplySchema => "bundle jsonb, options jsonb DEFAULT '{}'",
            Rpc::Query => "entity text, query jsonb DEFAULT '{}'",
        }
    }

    /// The result type.
    pub fn returns(self) -> &'static str {
        match self {
            Rpc::DropEntity => "void",
            Rpc::Entities => {
                "TABLE (id uuid, name text, label text, description text, fields bigint, version integer, \
                 created_at timestamptz, updated_at timestamptz)"
            }
            _ => "jsonb",
        }
    }

    /// Reading functions are STABLE, so PostgREST serves them by GET too (in a
    /// read-only transaction); the others need POST.
    pub fn stable(self) -> bool {
        matches!(
            self,
            Rpc::ValidateEntity
                | Rpc::PlanEntity
                | Rpc::Entity
                | Rpc::Entities
                | Rpc::ExportSchema
                | Rpc::Query
        )
    }

    /// The body, with `$tenant` standing for the quoted tenant slug: the
    /// renderer substitutes it. Definitions without a `tenant` get this one
    /// (`cot.with_tenant`); a definition naming another tenant is passed on and
    /// refused there unless the caller administers that tenant too.
    pub fn body(self) -> &'static str {
        match self {
            Rpc::ValidateEntity => "SELECT cot.validate_entity(cot.with_tenant(definition, $tenant))",
            Rpc::PlanEntity => "SELECT cot.plan_entity(cot.with_tenant(definition, $tenant), options)",
            Rpc::CreateEntity => "SELECT cot.create_entity(cot.with_tenant(definition, $tenant))",
            Rpc::CreateEntities => "SELECT cot.create_entities(cot.with_tenant(definitions, $tenant))",
            Rpc::AlterEntity => "SELECT cot.alter_entity(cot.with_tenant(definition, $tenant), options)",
            Rpc::DropEntity => "SELECT cot.drop_entity($tenant, name, options)",
            Rpc::Entity => "SELECT cot.entity($tenant, name)",
            Rpc::Entities => "SELECT * FROM cot.entities($tenant)",
            Rpc::ExportSchema => "SELECT cot.export_schema($tenant)",
            Rpc::ApplySchema => "SELECT cot.apply_schema($tenant, bundle, options)",
            Rpc::Query => "SELECT cot.query($tenant, entity, query)",
        }
    }

    /// For every role of the tenant (`query`), or for its admin alone.
    pub fn for_every_role(self) -> bool {
        matches!(self, Rpc::Query)
    }
}
