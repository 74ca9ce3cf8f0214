//! The functions each tenant's API schema offers over PostgREST's `/rpc/`:
//! the definition functions, `query`, and the API's generated documentation
//! (`openapi`, `typescript`). Cot's own functions live in `cot`,
//! which PostgREST never exposes (every SECURITY DEFINER function stays outside
//! the exposed schemas), so each tenant gets thin SECURITY INVOKER wrappers,
//! `<slug>.create_entity(definition)` and so on, that fix the tenant and call
//! the `cot` function as the caller. Only the tenant's admin role may execute
//! the definition functions; `query` is for all three of its roles, and reads
//! as the caller, so grants and row security decide what it returns; the
//! documentation is for its admin and user roles, who may call the API it
//! describes (anonymous visitors see only what is public, and the document
//! names every entity). The `cot` function checks again.

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
    /// `create_webhook(options jsonb) RETURNS jsonb` (docs/webhooks.md).
    CreateWebhook,
    /// `webhooks() RETURNS jsonb`.
    Webhooks,
    /// `update_webhook(id text, options jsonb) RETURNS jsonb`.
    UpdateWebhook,
    /// `delete_webhook(id text) RETURNS boolean`.
    DeleteWebhook,
    /// `webhook_deliveries(options jsonb DEFAULT '{}') RETURNS jsonb`.
    WebhookDeliveries,
    /// `replay_webhook(delivery_id text) RETURNS jsonb`.
    ReplayWebhook,
    /// `issue_token(options jsonb) RETURNS jsonb`: a short-lived token of the
    /// tenant's user or anon role (`cot.issue_tenant_token`), for its admin.
    IssueToken,
    /// `history(entity text, id text) RETURNS jsonb`: every version of a
    /// record (`cot.history`), for whoever may read the record.
    History,
    /// `transition(entity text, id text, transition text, note text DEFAULT
    /// NULL) RETURNS jsonb`: take a workflow transition (`cot.transition`),
    /// as the caller.
    Transition,
    /// `transitions(entity text, id text) RETURNS jsonb`: the transitions the
    /// caller may take now on a record (`cot.transitions`).
    Transitions,
    /// `openapi(options jsonb DEFAULT '{}') RETURNS jsonb`: the OpenAPI
    /// document of the tenant's API (`cot.openapi`), for its admin and user roles.
    OpenApi,
    /// `typescript() RETURNS text`: client types (`cot.typescript`), for its
    /// admin and user roles.
    TypeScript,
    /// `modules() RETURNS jsonb`: the module catalog (`cot.modules`).
    Modules,
    /// `installed_modules() RETURNS jsonb` (`cot.installed_modules`).
    InstalledModules,
    /// `install_module(name text, version text DEFAULT NULL, options jsonb
    /// DEFAULT '{}') RETURNS jsonb` (`cot.install_module`).
    InstallModule,
    /// `plan_module_upgrade(name text, version text DEFAULT NULL, options
    /// jsonb DEFAULT '{}') RETURNS jsonb` (`cot.plan_module_upgrade`).
    PlanModuleUpgrade,
    /// `upgrade_module(name text, version text DEFAULT NULL, options jsonb
    /// DEFAULT '{}') RETURNS jsonb` (`cot.upgrade_module`).
    UpgradeModule,
    /// `uninstall_module(name text, options jsonb DEFAULT '{}') RETURNS
    /// jsonb` (`cot.uninstall_module`).
    UninstallModule,
}

/// Who of a tenant's roles may execute a wrapper.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    /// The admin role alone.
    Admin,
    /// The admin and user roles.
    Members,
    /// The anon, user and admin roles.
    Everyone,
}

/// Every wrapper, in the order they are created.
pub const ALL: [Rpc; 29] = [
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
    Rpc::CreateWebhook,
    Rpc::Webhooks,
    Rpc::UpdateWebhook,
    Rpc::DeleteWebhook,
    Rpc::WebhookDeliveries,
    Rpc::ReplayWebhook,
    Rpc::IssueToken,
    Rpc::Modules,
    Rpc::InstalledModules,
    Rpc::InstallModule,
    Rpc::PlanModuleUpgrade,
    Rpc::UpgradeModule,
    Rpc::UninstallModule,
    Rpc::Query,
    Rpc::History,
    Rpc::Transition,
    Rpc::Transitions,
    Rpc::OpenApi,
    Rpc::TypeScript,
];

/// The `cot` functions the wrappers call, and `cot.check`, by signature: a
/// tenant's admin role is granted EXECUTE on these (the functions check the
/// tenant themselves).
pub const COT_FUNCTIONS: [&str; 28] = [
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
    "cot.create_webhook(text, jsonb)",
    "cot.webhooks(text)",
    "cot.update_webhook(uuid, jsonb)",
    "cot.delete_webhook(uuid)",
    "cot.webhook_deliveries(text, jsonb)",
    "cot.replay_webhook(uuid)",
    "cot.issue_tenant_token(text, jsonb)",
    "cot.changes(text, bigint, integer)",
    "cot.set_history_retention(text, interval)",
    "cot.modules()",
    "cot.installed_modules(text)",
    "cot.install_module(text, text, text, jsonb)",
    "cot.plan_module_upgrade(text, text, text, jsonb)",
    "cot.upgrade_module(text, text, text, jsonb)",
    "cot.uninstall_module(text, text, jsonb)",
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
            Rpc::CreateWebhook => "create_webhook",
            Rpc::Webhooks => "webhooks",
            Rpc::UpdateWebhook => "update_webhook",
            Rpc::DeleteWebhook => "delete_webhook",
            Rpc::WebhookDeliveries => "webhook_deliveries",
            Rpc::ReplayWebhook => "replay_webhook",
            Rpc::IssueToken => "issue_token",
            Rpc::History => "history",
            Rpc::Transition => "transition",
            Rpc::Transitions => "transitions",
            Rpc::OpenApi => "openapi",
            Rpc::TypeScript => "typescript",
            Rpc::Modules => "modules",
            Rpc::InstalledModules => "installed_modules",
            Rpc::InstallModule => "install_module",
            Rpc::PlanModuleUpgrade => "plan_module_upgrade",
            Rpc::UpgradeModule => "upgrade_module",
            Rpc::UninstallModule => "uninstall_module",
        }
    }

    /// The arguments, in order. PostgREST matches the keys of a request body
    /// (or the query string of a GET) to their names.
    pub fn args(self) -> &'static [Arg] {
        const DEFINITION: Arg = Arg::json(
            "definition",
            true,
            "An entity definition (docs/definition-reference.md); without tenant, this tenant's.",
        );
        const DEFINITIONS: Arg = Arg::json(
            "definitions",
            true,
            "An array of entity definitions, created as one group.",
        );
        const OPTIONS: Arg = Arg::json(
            "options",
            false,
            "Options of the change (docs/evolution.md), {} by default.",
        );
        const NAME: Arg = Arg::text("name", "An entity's name.");
        const BUNDLE: Arg = Arg::json(
            "bundle",
            true,
            "A cot.schema/1 bundle, as export_schema returns it.",
        );
        const ENTITY: Arg = Arg::text("entity", "The entity to read.");
        const ID: Arg = Arg::text("id", "The record's id (a uuid).");
        const QUERY: Arg = Arg::json(
            "query",
            false,
            "The query document (docs/query.md): select, where, order, limit, offset, cursor, count; {} by default.",
        );
        const DOC_OPTIONS: Arg = Arg::json(
            "options",
            false,
            "{\"server_url\": \"https://api.example.com\"} names the server in the document; {} by default.",
        );
        const WEBHOOK: Arg = Arg::json(
            "options",
            true,
            "The webhook (docs/webhooks.md): url, events, and optionally secret, headers, enabled, description.",
        );
        const WEBHOOK_CHANGES: Arg = Arg::json(
            "options",
            true,
            "The keys of the webhook to change (docs/webhooks.md): url, events, secret, headers, enabled, description.",
        );
        const WEBHOOK_ID: Arg = Arg::text("id", "A webhook's id.");
        const DELIVERIES: Arg = Arg::json(
            "options",
            false,
            "Which deliveries (docs/webhooks.md): webhook, state, change_id, limit, before; {} by default.",
        );
        const DELIVERY_ID: Arg = Arg::text("delivery_id", "A delivery's id.");
        const TOKEN: Arg = Arg::json(
            "options",
            true,
            "{\"role\": \"user\" or \"anon\", \"sub\": the end user, \"ttl_seconds\": 1 to 900 (900 by default)}.",
        );
        const STATEFUL: Arg = Arg::text("entity", "An entity with a state field.");
        const TRANSITION: Arg = Arg::text("transition", "The transition's name.");
        const NOTE: Arg = Arg {
            name: "note",
            json: false,
            required: false,
            description: "A note kept with the transition in the change log; none by default.",
        };
        const MODULE: Arg = Arg::text("name", "A module's name (cot.modules() lists them).");
        const VERSION: Arg = Arg {
            name: "version",
            json: false,
            required: false,
            description: "A published version of the module; the latest release by default.",
        };
        const MODULE_OPTIONS: Arg = Arg::json(
            "options",
            false,
            "Options (docs/modules.md): dry_run, and samples (install), allow_data_loss and the alter options (upgrade, uninstall); {} by default.",
        );
        match self {
            Rpc::Modules | Rpc::InstalledModules => &[],
            Rpc::InstallModule | Rpc::PlanModuleUpgrade | Rpc::UpgradeModule => {
                &[MODULE, VERSION, MODULE_OPTIONS]
            }
            Rpc::UninstallModule => &[MODULE, MODULE_OPTIONS],
            Rpc::CreateWebhook => &[WEBHOOK],
            Rpc::Webhooks => &[],
            Rpc::UpdateWebhook => &[WEBHOOK_ID, WEBHOOK_CHANGES],
            Rpc::DeleteWebhook => &[WEBHOOK_ID],
            Rpc::WebhookDeliveries => &[DELIVERIES],
            Rpc::ReplayWebhook => &[DELIVERY_ID],
            Rpc::IssueToken => &[TOKEN],
            Rpc::ValidateEntity | Rpc::CreateEntity => &[DEFINITION],
            Rpc::CreateEntities => &[DEFINITIONS],
            Rpc::PlanEntity | Rpc::AlterEntity => &[DEFINITION, OPTIONS],
            Rpc::DropEntity => &[NAME, OPTIONS],
            Rpc::Entity => &[NAME],
            Rpc::Entities | Rpc::ExportSchema | Rpc::TypeScript => &[],
            Rpc::OpenApi => &[DOC_OPTIONS],
            Rpc::ApplySchema => &[BUNDLE, OPTIONS],
            Rpc::Query => &[ENTITY, QUERY],
            Rpc::History => &[ENTITY, ID],
            Rpc::Transition => &[STATEFUL, ID, TRANSITION, NOTE],
            Rpc::Transitions => &[STATEFUL, ID],
        }
    }

    /// Argument types, as `ALTER`/`DROP FUNCTION` name them.
    pub fn arg_types(self) -> String {
        self.args()
            .iter()
            .map(|a| a.sql_type())
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Named parameters with their defaults, as `CREATE FUNCTION` lists them.
    pub fn params(self) -> String {
        self.args()
            .iter()
            .map(|a| {
                let default = match (a.required, a.json) {
                    (true, _) => "",
                    (false, true) => " DEFAULT '{}'",
                    (false, false) => " DEFAULT NULL",
                };
                format!("{} {}{default}", a.name, a.sql_type())
            })
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// What it does, in one line.
    pub fn summary(self) -> &'static str {
        match self {
            Rpc::ValidateEntity => "Check a definition without creating anything (cot.validate_entity): the problems, [] when none",
            Rpc::PlanEntity => "What creating or changing an entity would do, with its cost and the rows it affects (cot.plan_entity); changes nothing",
            Rpc::CreateEntity => "Create an entity: its table, view, grants and policies (cot.create_entity)",
            Rpc::CreateEntities => "Create entities that refer to each other, as one group (cot.create_entities)",
            Rpc::AlterEntity => "Change an entity to a new definition (cot.alter_entity)",
            Rpc::DropEntity => "Drop an entity and its data (cot.drop_entity)",
            Rpc::Entity => "An entity's stored definition (cot.entity)",
            Rpc::Entities => "The tenant's entities (cot.entities)",
            Rpc::ExportSchema => "Every entity of the tenant as one bundle (cot.export_schema)",
            Rpc::ApplySchema => "Make the tenant's entities those of a bundle: create, change, drop (cot.apply_schema)",
            Rpc::Query => "Read records: filter, sort, page, select fields and embed related records, as the caller (cot.query)",
            Rpc::CreateWebhook => "Create a webhook; its secret is shown this once (cot.create_webhook)",
            Rpc::Webhooks => "The tenant's webhooks, without their secrets (cot.webhooks)",
            Rpc::UpdateWebhook => "Change a webhook: url, events, secret, headers, enabled, description (cot.update_webhook)",
            Rpc::DeleteWebhook => "Delete a webhook and its delivery log (cot.delete_webhook)",
            Rpc::WebhookDeliveries => "The delivery log: state, HTTP status, attempts, last error, next attempt (cot.webhook_deliveries)",
            Rpc::ReplayWebhook => "Send a delivery again (cot.replay_webhook)",
            Rpc::IssueToken => "A token of this tenant's user (with a sub) or anon role, 15 minutes at most, to try the API as them (cot.issue_tenant_token)",
            Rpc::History => "Every version of a record, with who changed what and when, for an entity with history (cot.history)",
            Rpc::Transition => "Move a record along a transition of its state field, as the caller; returns the record (cot.transition)",
            Rpc::Transitions => "The transitions the caller may take now on a record (cot.transitions)",
            Rpc::OpenApi => "The OpenAPI 3.1 document of this API: every entity's paths, records and request bodies (cot.openapi)",
            Rpc::TypeScript => "TypeScript types of this API for @supabase/postgrest-js (cot.typescript); Accept: text/plain for the text itself",
            Rpc::Modules => "Every published module version: name, version, description, dependencies, entities (cot.modules)",
            Rpc::InstalledModules => "The modules installed in this tenant, with their versions (cot.installed_modules)",
            Rpc::InstallModule => "Install a module and the modules it needs; dry_run shows the plan (cot.install_module)",
            Rpc::PlanModuleUpgrade => "What upgrading a module would do, with its cost and the rows it would lose (cot.plan_module_upgrade); changes nothing",
            Rpc::UpgradeModule => "Upgrade an installed module to a newer version; refused with counts when it would lose data (cot.upgrade_module)",
            Rpc::UninstallModule => "Uninstall a module: drop its entities; refused while they hold rows unless allowed (cot.uninstall_module)",
        }
    }

    /// The result type.
    pub fn returns(self) -> &'static str {
        match self {
            Rpc::DropEntity => "void",
            Rpc::DeleteWebhook => "boolean",
            Rpc::Entities => {
                "TABLE (id uuid, name text, label text, description text, fields bigint, version integer, \
                 created_at timestamptz, updated_at timestamptz)"
            }
            // PostgREST answers Accept: text/plain with a domain of that name.
            Rpc::TypeScript => "cot.\"text/plain\"",
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
                | Rpc::Webhooks
                | Rpc::WebhookDeliveries
                | Rpc::History
                | Rpc::Transitions
                | Rpc::OpenApi
                | Rpc::TypeScript
                | Rpc::Modules
                | Rpc::InstalledModules
                | Rpc::PlanModuleUpgrade
        )
    }

    /// The body, with `$tenant` standing for the quoted tenant slug: the
    /// renderer substitutes it. Definitions without a `tenant` get this one
    /// (`cot.with_tenant`); a definition naming another tenant is passed on and
    /// refused there unless the caller administers that tenant too.
    pub fn body(self) -> &'static str {
        match self {
            // The reading wrappers answer GET too, whose arguments PostgREST
            // passes as JSON strings: cot.json_arg reads them.
            Rpc::ValidateEntity => "SELECT cot.validate_entity(cot.with_tenant(cot.json_arg(definition), $tenant))",
            Rpc::PlanEntity => {
                "SELECT cot.plan_entity(cot.with_tenant(cot.json_arg(definition), $tenant), cot.json_arg(options))"
            }
            Rpc::CreateEntity => "SELECT cot.create_entity(cot.with_tenant(definition, $tenant))",
            Rpc::CreateEntities => "SELECT cot.create_entities(cot.with_tenant(definitions, $tenant))",
            Rpc::AlterEntity => "SELECT cot.alter_entity(cot.with_tenant(definition, $tenant), options)",
            Rpc::DropEntity => "SELECT cot.drop_entity($tenant, name, options)",
            Rpc::Entity => "SELECT cot.entity($tenant, name)",
            Rpc::Entities => "SELECT * FROM cot.entities($tenant)",
            Rpc::ExportSchema => "SELECT cot.export_schema($tenant)",
            Rpc::ApplySchema => "SELECT cot.apply_schema($tenant, bundle, options)",
            Rpc::Query => "SELECT cot.query($tenant, entity, cot.json_arg(query))",
            Rpc::CreateWebhook => "SELECT cot.create_webhook($tenant, options)",
            Rpc::Webhooks => "SELECT cot.webhooks($tenant)",
            Rpc::UpdateWebhook => "SELECT cot.update_webhook(id::uuid, options)",
            Rpc::DeleteWebhook => "SELECT cot.delete_webhook(id::uuid)",
            Rpc::WebhookDeliveries => "SELECT cot.webhook_deliveries($tenant, cot.json_arg(options))",
            Rpc::ReplayWebhook => "SELECT cot.replay_webhook(delivery_id::uuid)",
            Rpc::IssueToken => "SELECT cot.issue_tenant_token($tenant, options)",
            Rpc::History => "SELECT cot.history($tenant, entity, id::uuid)",
            Rpc::Transition => "SELECT cot.transition($tenant, entity, id::uuid, transition, note)",
            Rpc::Transitions => "SELECT cot.transitions($tenant, entity, id::uuid)",
            Rpc::OpenApi => "SELECT cot.openapi($tenant, cot.json_arg(options))",
            Rpc::TypeScript => "SELECT cot.typescript($tenant)::cot.\"text/plain\"",
            Rpc::Modules => "SELECT cot.modules()",
            Rpc::InstalledModules => "SELECT cot.installed_modules($tenant)",
            Rpc::InstallModule => "SELECT cot.install_module($tenant, name, version, options)",
            Rpc::PlanModuleUpgrade => {
                "SELECT cot.plan_module_upgrade($tenant, name, version, cot.json_arg(options))"
            }
            Rpc::UpgradeModule => "SELECT cot.upgrade_module($tenant, name, version, options)",
            Rpc::UninstallModule => "SELECT cot.uninstall_module($tenant, name, options)",
        }
    }

    /// Who of the tenant's roles may execute it.
    pub fn audience(self) -> Audience {
        match self {
            Rpc::Query | Rpc::History | Rpc::Transition | Rpc::Transitions => Audience::Everyone,
            Rpc::OpenApi | Rpc::TypeScript => Audience::Members,
            _ => Audience::Admin,
        }
    }
}

/// An argument of a wrapper: jsonb (optional ones default to `{}`) or a
/// required text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Arg {
    /// Its name.
    pub name: &'static str,
    /// jsonb rather than text.
    pub json: bool,
    /// Must be given.
    pub required: bool,
    /// What it holds.
    pub description: &'static str,
}

impl Arg {
    const fn json(name: &'static str, required: bool, description: &'static str) -> Arg {
        Arg {
            name,
            json: true,
            required,
            description,
        }
    }

    const fn text(name: &'static str, description: &'static str) -> Arg {
        Arg {
            name,
            json: false,
            required: true,
            description,
        }
    }

    /// The SQL type.
    pub fn sql_type(&self) -> &'static str {
        if self.json {
            "jsonb"
        } else {
            "text"
        }
    }
}
