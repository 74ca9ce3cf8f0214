//! Dependencies: which modules an installation brings in, in what order
//! (each after the modules it needs), and which changes would leave an
//! installed module with a dependency outside its version range.

use crate::error::{CotError, ErrorKind};
use crate::names::shown;
use semver::{Version, VersionReq};
use std::collections::BTreeMap;

/// A published version of a module, as resolution needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Published {
    /// The module's name.
    pub name: String,
    /// This version.
    pub version: Version,
    /// What it needs.
    pub depends: BTreeMap<String, VersionReq>,
}

/// A module installed in a tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Installed {
    /// The module's name.
    pub name: String,
    /// The version installed.
    pub version: Version,
    /// What that version needs.
    pub depends: BTreeMap<String, VersionReq>,
}

/// The newest of `versions` that `req` allows. A pre-release is chosen only
/// when the range names one (semver's own rule for `matches`).
pub fn newest<'a>(versions: &'a [Published], req: &VersionReq) -> Option<&'a Published> {
    versions
        .iter()
        .filter(|p| req.matches(&p.version))
        .max_by(|a, b| a.version.cmp(&b.version))
}

/// The newest version that is no pre-release, else the newest.
pub fn latest(versions: &[Published]) -> Option<&Published> {
    versions
        .iter()
        .filter(|p| p.version.pre.is_empty())
        .max_by(|a, b| a.version.cmp(&b.version))
        .or_else(|| versions.iter().max_by(|a, b| a.version.cmp(&b.version)))
}

/// What installing `target` brings in: the modules to install, each after
/// the ones it needs, `target` last. Dependencies already installed stay as
/// they are when their version is in range, and stop the installation when
/// it is not. `catalog(name)` lists the published versions of a module.
pub fn install_order(
    catalog: &dyn Fn(&str) -> Vec<Published>,
    installed: &[Installed],
    target: &Published,
) -> Result<Vec<Published>, CotError> {
    if let Some(i) = installed.iter().find(|i| i.name == target.name) {
        return Err(CotError::new(
            ErrorKind::DuplicateObject,
            format!(
                "module {} is already installed, at version {}",
                shown(&i.name),
                i.version
            ),
        )
        .hint("cot.upgrade_module changes its version"));
    }
    let mut order = Vec::new();
    let mut path = vec![target.name.clone()];
    needs(catalog, installed, target, &mut order, &mut path)?;
    order.push(target.clone());
    Ok(order)
}

/// Adds what `module` needs to `order`, depth first. `path` is the chain of
/// modules being resolved, to find cycles.
fn needs(
    catalog: &dyn Fn(&str) -> Vec<Published>,
    installed: &[Installed],
    module: &Published,
    order: &mut Vec<Published>,
    path: &mut Vec<String>,
) -> Result<(), CotError> {
    for (dep, req) in &module.depends {
        let who = format!("module {} {}", shown(&module.name), module.version);
        if let Some(i) = installed.iter().find(|i| &i.name == dep) {
            if !req.matches(&i.version) {
                return Err(CotError::new(
                    ErrorKind::NotInPrerequisiteState,
                    format!(
                        "{who} needs {} {req}, and version {} is installed",
                        shown(dep),
                        i.version
                    ),
                )
                .hint(format!("upgrade {} first with cot.upgrade_module", shown(dep))));
            }
            continue;
        }
        if let Some(p) = order.iter().find(|p| &p.name == dep) {
            if !req.matches(&p.version) {
                return Err(CotError::new(
                    ErrorKind::NotInPrerequisiteState,
                    format!(
                        "{who} needs {} {req}, and another module needs version {}",
                        shown(dep),
                        p.version
                    ),
                )
                .hint("no version of it satisfies both: install the modules at versions that agree"));
            }
            continue;
        }
        if path.contains(dep) {
            path.push(dep.clone());
            return Err(CotError::new(
                ErrorKind::InvalidParameter,
                format!("modules depend on each other in a cycle: {}", path.join(" -> ")),
            )
            .hint("a module cannot need, directly or not, a module that needs it"));
        }
        let versions = catalog(dep);
        let Some(chosen) = newest(&versions, req) else {
            let hint = if versions.is_empty() {
                "publish it first with cot.publish_module".to_string()
            } else {
                let list: Vec<String> = versions.iter().map(|p| p.version.to_string()).collect();
                format!("published versions: {}", list.join(", "))
            };
            return Err(CotError::new(
                ErrorKind::UndefinedObject,
                format!(
                    "{who} needs {} {req}, and no such version is published",
                    shown(dep)
                ),
            )
            .hint(hint));
        };
        path.push(dep.clone());
        needs(catalog, installed, chosen, order, path)?;
        path.pop();
        order.push(chosen.clone());
    }
    Ok(())
}

/// Installed modules whose range for `name` would not allow `version`: an
/// upgrade to it is refused while they are installed.
pub fn broken_dependents<'a>(
    installed: &'a [Installed],
    name: &str,
    version: &Version,
) -> Vec<&'a Installed> {
    installed
        .iter()
        .filter(|i| i.depends.get(name).is_some_and(|req| !req.matches(version)))
        .collect()
}

/// Installed modules that need `name`: it cannot be uninstalled while they are.
pub fn dependents<'a>(installed: &'a [Installed], name: &str) -> Vec<&'a Installed> {
    installed
        .iter()
        .filter(|i| i.depends.contains_key(name))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(name: &str, version: &str, deps: &[(&str, &str)]) -> Published {
        Published {
            name: name.into(),
            version: Version::parse(version).unwrap(),
            depends: deps
                .iter()
                .map(|(n, r)| (n.to_string(), VersionReq::parse(r).unwrap()))
                .collect(),
        }
    }

    fn catalog() -> Vec<Published> {
        vec![
            p("base", "1.0.0", &[]),
            p("base", "1.4.0", &[]),
            p("base", "2.0.0", &[]),
            p("base", "2.1.0-beta.1", &[]),
            p("crm", "1.0.0", &[("base", "^1.2")]),
            p("deals", "1.0.0", &[("crm", "^1"), ("base", "^1")]),
            p("loop_a", "1.0.0", &[("loop_b", "*")]),
            p("loop_b", "1.0.0", &[("loop_a", "*")]),
            p("wants_base3", "1.0.0", &[("base", "^3")]),
        ]
    }

    fn lookup(name: &str) -> Vec<Published> {
        catalog().into_iter().filter(|p| p.name == name).collect()
    }

    fn names(order: &[Published]) -> Vec<String> {
        order
            .iter()
            .map(|p| format!("{}@{}", p.name, p.version))
            .collect()
    }

    #[test]
    fn dependencies_install_first_at_their_newest_version_in_range() {
        let target = p("deals", "1.0.0", &[("crm", "^1"), ("base", "^1")]);
        let order = install_order(&lookup, &[], &target).unwrap();
        assert_eq!(names(&order), ["base@1.4.0", "crm@1.0.0", "deals@1.0.0"]);
    }

    #[test]
    fn installed_dependencies_in_range_stay() {
        let installed = [Installed {
            name: "base".into(),
            version: Version::parse("1.3.0").unwrap(),
            depends: BTreeMap::new(),
        }];
        let order = install_order(&lookup, &installed, &lookup("crm")[0]).unwrap();
        assert_eq!(names(&order), ["crm@1.0.0"]);
        let old = [Installed {
            version: Version::parse("1.1.0").unwrap(),
            ..installed[0].clone()
        }];
        let e = install_order(&lookup, &old, &lookup("crm")[0]).unwrap_err();
        assert_eq!(e.kind.sqlstate(), "55000");
        assert_eq!(
            e.message,
            "module \"crm\" 1.0.0 needs \"base\" ^1.2, and version 1.1.0 is installed"
        );
    }

    #[test]
    fn missing_versions_cycles_and_reinstalls_are_refused() {
        let e = install_order(&lookup, &[], &lookup("wants_base3")[0]).unwrap_err();
        assert_eq!(e.kind.sqlstate(), "42704");
        assert_eq!(
            e.hint.as_deref(),
            Some("published versions: 1.0.0, 1.4.0, 2.0.0, 2.1.0-beta.1")
        );
        let e = install_order(&lookup, &[], &lookup("loop_a")[0]).unwrap_err();
        assert_eq!(
            e.message,
            "modules depend on each other in a cycle: loop_a -> loop_b -> loop_a"
        );
        let installed = [Installed {
            name: "crm".into(),
            version: Version::parse("1.0.0").unwrap(),
            depends: BTreeMap::new(),
        }];
        let e = install_order(&lookup, &installed, &lookup("crm")[0]).unwrap_err();
        assert_eq!(e.kind.sqlstate(), "42710");
    }

    #[test]
    fn latest_prefers_releases() {
        assert_eq!(latest(&lookup("base")).unwrap().version.to_string(), "2.0.0");
        assert_eq!(
            latest(&[p("x", "1.0.0-rc.1", &[])]).unwrap().version.to_string(),
            "1.0.0-rc.1"
        );
    }

    #[test]
    fn dependents_block_uninstall_and_out_of_range_upgrades() {
        let installed = vec![
            Installed {
                name: "crm".into(),
                version: Version::parse("1.0.0").unwrap(),
                depends: [("base".to_string(), VersionReq::parse("^1.2").unwrap())].into(),
            },
            Installed {
                name: "base".into(),
                version: Version::parse("1.4.0").unwrap(),
                depends: BTreeMap::new(),
            },
        ];
        assert_eq!(dependents(&installed, "base").len(), 1);
        assert!(dependents(&installed, "crm").is_empty());
        assert!(broken_dependents(&installed, "base", &Version::parse("1.9.0").unwrap()).is_empty());
        assert_eq!(
            broken_dependents(&installed, "base", &Version::parse("2.0.0").unwrap())[0].name,
            "crm"
        );
    }
}
