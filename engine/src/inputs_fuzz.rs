//! Property tests for the other documents and strings callers hand Cot:
//! schema bundles (`cot.apply_schema`), function options, token requests
//! (`cot.issue_token`) and API key options. None makes the engine panic;
//! refusals are errors about the input (see [`refusal`]) with a message.

use crate::error::ErrorKind;
use crate::names::{fixed, TenantNames};
use crate::options::{AlterOptions, ApplyOptions, DropOptions, KeyOptions};
use crate::token::{check_secret, platform_claims, sign_hs256, tenant_claims, TenantRole};
use crate::validate::{tests::TestEnv, validate};
use proptest::prelude::*;
use serde_json::{json, Map, Value};

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        prop::sample::select(vec![
            "cot.schema/1",
            "cot.schema/2",
            "text",
            "relation",
            "many_to_one",
            "one_to_many",
            "many_to_many",
            "one_to_one",
            "orders",
            "customers",
            "label",
            "2027-01-01T00:00:00Z",
            "a\u{0}b",
            "",
            "anon",
            "user",
            "admin",
        ])
        .prop_map(Value::from),
        "\\PC{0,12}".prop_map(Value::from),
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    let key = prop_oneof![
        prop::sample::select(vec![
            "format",
            "entities",
            "name",
            "fields",
            "type",
            "target",
            "kind",
            "inverse",
            "label",
            "sub",
            "expires_at",
            "allow_data_loss",
            "prune",
            "dry_run",
            "force",
            "drop_relations",
        ])
        .prop_map(String::from),
        "[a-z_]{1,8}",
    ];
    leaf().prop_recursive(4, 40, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::vec((key.clone(), inner), 0..6)
                .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

/// A bundle: the right format tag most of the time, entities that relate to
/// each other (or to names outside the bundle).
fn bundle() -> impl Strategy<Value = Value> {
    let names = || prop::sample::select(vec!["orders", "customers", "items", "ghost"]);
    let field = (
        prop::sample::select(vec!["a", "b", "customer", "items", "select"]),
        prop::sample::select(vec!["text", "integer", "relation", "enum", "array"]),
        names(),
        prop::sample::select(vec![
            "many_to_one",
            "one_to_many",
            "many_to_many",
            "one_to_one",
            "two",
        ]),
        prop::option::of(json_value()),
    )
        .prop_map(|(name, ty, target, kind, extra)| {
            let mut f = json!({"name": name, "type": ty});
            if ty == "relation" {
                f["target"] = json!(target);
                f["kind"] = json!(kind);
                if kind == "one_to_many" {
                    f["inverse"] = json!("customer");
                }
            }
            if let Some(Value::Object(m)) = extra {
                if let Some((k, v)) = m.into_iter().next() {
                    f[k] = v;
                }
            }
            f
        });
    let entity = (names(), prop::collection::vec(field, 0..4))
        .prop_map(|(name, fields)| json!({"name": name, "fields": fields}));
    (
        prop_oneof![
            8 => Just(json!("cot.schema/1")),
            1 => json_value()
        ],
        prop_oneof![
            8 => prop::collection::vec(entity, 0..4).prop_map(Value::Array),
            1 => json_value()
        ],
        prop::option::of(("[a-z]{1,6}", json_value())),
    )
        .prop_map(|(format, entities, extra)| {
            let mut m = Map::new();
            m.insert("format".into(), format);
            m.insert("entities".into(), entities);
            if let Some((k, v)) = extra {
                m.insert(k, v);
            }
            Value::Object(m)
        })
}

/// What a bad input may be refused with: a bad value, a size past a limit,
/// a name that is not there or not allowed. Never a privilege, state or
/// failpoint error, which would mean the input reached the wrong code.
fn refusal(kind: ErrorKind) -> bool {
    matches!(
        kind,
        ErrorKind::InvalidParameter
            | ErrorKind::ProgramLimit
            | ErrorKind::UndefinedObject
            | ErrorKind::InvalidName
            | ErrorKind::NameTooLong
            | ErrorKind::ReservedName
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(
        std::env::var("COT_FUZZ_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(2000)
    ))]

    /// A bundle's definitions are read, each validated, and the group checked
    /// for being one tenant's, as `cot.apply_schema` does before it plans.
    #[test]
    fn bundles_never_panic(b in bundle(), tenant in prop::sample::select(vec!["acme", "Bad", ""])) {
        match crate::bundle::definitions(&b, tenant) {
            Ok(defs) => {
                let env = TestEnv::new();
                let valid: Vec<_> = defs.iter().filter_map(|d| validate(d, &env).ok()).collect();
                let entities: Vec<_> = valid.iter().map(|v| &v.entity).collect();
                let _ = crate::group::one_tenant(&entities, &|i| format!("/entities/{i}"));
                let _ = crate::group::targets_outside(&entities);
                let _ = crate::bundle::ids(&defs);
            }
            Err(e) => prop_assert!(refusal(e.kind) && !e.message.is_empty(), "{:?}", e),
        }
    }

    /// Every options object Cot's functions take.
    #[test]
    fn options_never_panic(v in json_value()) {
        for kind in [
            AlterOptions::from_json(&v).err().map(|e| e.kind),
            ApplyOptions::from_json(&v).err().map(|e| e.kind),
            DropOptions::from_json(&v).err().map(|e| e.kind),
            KeyOptions::from_json(&v).err().map(|e| e.kind),
        ].into_iter().flatten() {
            prop_assert!(refusal(kind), "{:?}", kind);
        }
        let _ = crate::options::tenant_display_name(&v, "acme");
    }

    /// `cot.issue_token`'s inputs: role, sub, lifetime, secret; and any claims
    /// signed with any secret.
    #[test]
    fn tokens_never_panic(
        role in "\\PC{0,8}",
        sub in prop::option::of("\\PC{0,300}"),
        ttl in prop_oneof![any::<i64>(), -10i64..100_000],
        now in any::<i64>(),
        secret in "\\PC{0,40}",
        claims in json_value(),
    ) {
        let t = TenantNames::new(&fixed("acme"));
        if let Ok(r) = TenantRole::parse(&role) {
            prop_assert!(matches!(role.as_str(), "anon" | "user" | "admin"));
            // `now` comes from the clock; one far from it must not overflow.
            if let Ok(c) = tenant_claims(&t, r, sub.as_deref(), now.clamp(0, 1 << 40), ttl) {
                prop_assert_eq!(c["tenant"].as_str(), Some("acme"));
                prop_assert!(c["exp"].as_i64() > c["iat"].as_i64());
            }
        }
        let _ = platform_claims(sub.as_deref(), now.clamp(0, 1 << 40), ttl);
        let _ = check_secret(&secret);
        let token = sign_hs256(&claims, secret.as_bytes());
        prop_assert_eq!(token.split('.').count(), 3);
    }
}
