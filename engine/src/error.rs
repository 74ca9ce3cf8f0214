//! Every error Cot raises, and the one table that maps each kind to a SQLSTATE.
//!
//! A user mistake must reach the client as a specific SQLSTATE (PostgREST turns
//! `22023` into 400 but `XX000` into 500), a short message, the JSON pointer of
//! the offending value in DETAIL and the fix in HINT.

use serde::Serialize;
use std::fmt;

/// The class of an error; each maps to exactly one SQLSTATE in [`ErrorKind::sqlstate`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum ErrorKind {
    /// A bad definition or value (`22023`).
    InvalidParameter,
    /// A name that breaks the naming rules (`42602`).
    InvalidName,
    /// A name longer than 63 bytes (`42622`).
    NameTooLong,
    /// A reserved word or a name Cot keeps for itself (`42939`).
    ReservedName,
    /// A relation that already exists (`42P07`).
    DuplicateTable,
    /// A field named twice (`42701`).
    DuplicateColumn,
    /// A tenant, role or other object that already exists (`42710`).
    DuplicateObject,
    /// A schema that already exists (`42P06`).
    DuplicateSchema,
    /// A tenant or entity that does not exist (`42704`).
    UndefinedObject,
    /// An index naming a field the entity does not have (`42703`).
    UndefinedColumn,
    /// The caller may not do this (`42501`).
    InsufficientPrivilege,
    /// Other objects depend on this one (`2BP01`).
    DependentObjects,
    /// A definition larger than Cot accepts (`54000`).
    ProgramLimit,
    /// Existing rows break a new CHECK constraint (`23514`).
    CheckViolation,
    /// Existing rows have no value for a field made required (`23502`).
    NotNullViolation,
    /// Existing rows repeat a value made unique (`23505`).
    UniqueViolation,
    /// A change would lose stored data and the caller did not allow it (`22000`).
    DataLoss,
    /// A change Cot does not make, such as an entity rename or a type change
    /// outside the conversion table (`0A000`).
    FeatureNotSupported,
    /// The definition was read at an older version than the stored one:
    /// someone else changed the entity in between; read it again and retry.
    /// `22023`, not `40001`: PostgREST retries a serialization failure by
    /// itself, without end, for a request that can never succeed as sent.
    StaleDefinition,
    /// Something Cot relies on is not in the state it must be, such as an owner
    /// role that can log in (`55000`).
    NotInPrerequisiteState,
    /// A deliberate failure injected by the `cot.test_fail_after_step` setting
    /// (`55000` too: tests tell it apart by its message).
    Failpoint,
}

impl ErrorKind {
    /// The SQLSTATE this kind is raised with. The only place codes are chosen.
    pub fn sqlstate(self) -> &'static str {
        match self {
            ErrorKind::InvalidParameter => "22023",
            ErrorKind::InvalidName => "42602",
            ErrorKind::NameTooLong => "42622",
            ErrorKind::ReservedName => "42939",
            ErrorKind::DuplicateTable => "42P07",
            ErrorKind::DuplicateColumn => "42701",
            ErrorKind::DuplicateObject => "42710",
            ErrorKind::DuplicateSchema => "42P06",
            ErrorKind::UndefinedObject => "42704",
            ErrorKind::UndefinedColumn => "42703",
            ErrorKind::InsufficientPrivilege => "42501",
            ErrorKind::DependentObjects => "2BP01",
            ErrorKind::ProgramLimit => "54000",
            ErrorKind::CheckViolation => "23514",
            ErrorKind::NotNullViolation => "23502",
            ErrorKind::UniqueViolation => "23505",
            ErrorKind::DataLoss => "22000",
            ErrorKind::FeatureNotSupported => "0A000",
            ErrorKind::StaleDefinition => "22023",
            ErrorKind::NotInPrerequisiteState | ErrorKind::Failpoint => "55000",
        }
    }
}

/// One problem found in a definition, located by a JSON pointer (RFC 6901).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Violation {
    /// Where in the definition, e.g. `/fields/3/max_length`; `""` is the whole document.
    pub pointer: String,
    /// The class of the problem.
    #[serde(skip)]
    pub kind: ErrorKind,
    /// What is wrong, in one sentence.
    pub message: String,
    /// How to fix it.
    pub hint: String,
}

impl Violation {
    /// A violation at `pointer`.
    pub fn new(
        kind: ErrorKind,
        pointer: impl Into<String>,
        message: impl Into<String>,
        hint: impl Into<String>,
    ) -> Self {
        Violation {
            pointer: pointer.into(),
            kind,
            message: message.into(),
            hint: hint.into(),
        }
    }

    /// The violation as the JSON object `cot.validate_entity` returns.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "pointer": self.pointer,
            "sqlstate": self.kind.sqlstate(),
            "message": self.message,
            "hint": self.hint,
        })
    }
}

/// An error ready to be raised: kind, message, DETAIL and HINT.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CotError {
    /// The class, which fixes the SQLSTATE.
    pub kind: ErrorKind,
    /// The primary message: short, no trailing period.
    pub message: String,
    /// DETAIL: the JSON pointer(s) and specifics.
    pub detail: Option<String>,
    /// HINT: what to do about it.
    pub hint: Option<String>,
}

/// How many violations DETAIL lists before it says "and N more".
const DETAIL_LIMIT: usize = 50;

impl CotError {
    /// An error with a message only.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        CotError {
            kind,
            message: message.into(),
            detail: None,
            hint: None,
        }
    }

    /// Adds DETAIL.
    pub fn detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }

    /// Adds HINT.
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// Folds a non-empty list of violations into one error. The SQLSTATE is the
    /// first violation's (so a lone bad name raises `42602`, not `22023`); DETAIL
    /// lists every violation with its pointer, HINT is the first one's.
    pub fn from_violations(what: &str, violations: &[Violation]) -> Self {
        let first = violations
            .first()
            .expect("from_violations needs at least one violation");
        let message = if violations.len() == 1 {
            format!("invalid {what}: {}", first.message)
        } else {
            format!(
                "invalid {what}: {} problems, the first: {}",
                violations.len(),
                first.message
            )
        };
        let mut lines: Vec<String> = violations
            .iter()
            .take(DETAIL_LIMIT)
            .map(|v| {
                let at = if v.pointer.is_empty() {
                    "(document)"
                } else {
                    &v.pointer
                };
                format!("{at}: {}", v.message)
            })
            .collect();
        if violations.len() > DETAIL_LIMIT {
            lines.push(format!("... and {} more", violations.len() - DETAIL_LIMIT));
        }
        CotError {
            kind: first.kind,
            message,
            detail: Some(lines.join("\n")),
            hint: Some(first.hint.clone()),
        }
    }
}

impl fmt::Display for CotError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.message, self.kind.sqlstate())
    }
}

impl std::error::Error for CotError {}

/// Result with [`CotError`].
pub type CotResult<T> = Result<T, CotError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlstates_are_five_characters_and_distinct_but_for_the_failpoint() {
        let all = [
            ErrorKind::InvalidParameter,
            ErrorKind::InvalidName,
            ErrorKind::NameTooLong,
            ErrorKind::ReservedName,
            ErrorKind::DuplicateTable,
            ErrorKind::DuplicateColumn,
            ErrorKind::DuplicateObject,
            ErrorKind::DuplicateSchema,
            ErrorKind::UndefinedObject,
            ErrorKind::UndefinedColumn,
            ErrorKind::InsufficientPrivilege,
            ErrorKind::DependentObjects,
            ErrorKind::ProgramLimit,
            ErrorKind::NotInPrerequisiteState,
            ErrorKind::CheckViolation,
            ErrorKind::NotNullViolation,
            ErrorKind::UniqueViolation,
            ErrorKind::DataLoss,
            ErrorKind::FeatureNotSupported,
        ];
        let mut codes: Vec<&str> = all.iter().map(|k| k.sqlstate()).collect();
        assert!(codes.iter().all(|c| c.len() == 5));
        codes.sort();
        codes.dedup();
        assert_eq!(codes.len(), all.len());
        assert_eq!(ErrorKind::Failpoint.sqlstate(), "55000");
        assert_eq!(ErrorKind::StaleDefinition.sqlstate(), "22023");
    }

    #[test]
    fn violations_fold_into_first_kind_with_all_pointers() {
        let vs = vec![
            Violation::new(ErrorKind::InvalidName, "/name", "bad name", "use a-z"),
            Violation::new(
                ErrorKind::InvalidParameter,
                "/fields/0/max_length",
                "negative",
                "fix",
            ),
        ];
        let e = CotError::from_violations("entity definition", &vs);
        assert_eq!(e.kind, ErrorKind::InvalidName);
        let detail = e.detail.unwrap();
        assert!(detail.contains("/name: bad name"));
        assert!(detail.contains("/fields/0/max_length: negative"));
        assert_eq!(e.hint.as_deref(), Some("use a-z"));
    }

    #[test]
    fn detail_is_bounded() {
        let vs: Vec<Violation> = (0..500)
            .map(|i| Violation::new(ErrorKind::InvalidParameter, format!("/fields/{i}"), "x", "y"))
            .collect();
        let e = CotError::from_violations("entity definition", &vs);
        let detail = e.detail.unwrap();
        assert!(detail.contains("and 450 more"));
        assert_eq!(detail.lines().count(), DETAIL_LIMIT + 1);
    }
}
