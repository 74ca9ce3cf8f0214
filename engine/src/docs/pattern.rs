//! A field's `pattern` is a PostgreSQL regular expression (an ARE, what `~`
//! runs); JSON Schema's `pattern` is an ECMA-262 regular expression, which
//! validators such as ajv compile with the `u` flag. The two dialects agree on a
//! common core and disagree elsewhere: `.` matches a newline in PostgreSQL but
//! not in ECMA; `\w` follows the database's locale in PostgreSQL (`é` is a word
//! character in a UTF-8 database) but is ASCII in ECMA; `\b` is a backspace in
//! PostgreSQL and a word boundary in ECMA; `[[:alpha:]]`, `\m`, `\y`, back
//! references and embedded options exist in PostgreSQL only; a `]` first in a
//! bracket is a literal in PostgreSQL and closes an empty class in ECMA.
//!
//! So a pattern is translated only when it stays inside that core, with the two
//! rewrites that keep the meaning (`.` → `[\s\S]`, an escaped punctuation
//! character → the character itself, as PostgreSQL reads it). Anything else is
//! refused with the reason: the generated schema then states the PostgreSQL
//! pattern in its description instead of publishing a `pattern` that would
//! judge strings differently from the database.
//!
//! What remains different inside the core: `\s` and `\d` follow the locale in
//! PostgreSQL (a few Unicode spaces, and non-ASCII digits under ICU) and not in
//! ECMA. Both dialects test for a match anywhere in the string unless anchored,
//! so anchors carry over unchanged.

/// Characters that ECMA lets (and, in `u` mode, requires) a backslash to
/// escape when meant literally.
const ECMA_SYNTAX: &str = r"^$\.*+?()[]{}|/";

/// Translates a PostgreSQL regular expression into an equivalent ECMA-262
/// pattern, or says why it cannot.
pub fn to_ecma(pg: &str) -> Result<String, String> {
    let chars: Vec<char> = pg.chars().collect();
    let mut out = String::with_capacity(pg.len() + 8);
    let mut i = 0;
    // Whether the previous item is an atom a quantifier may follow.
    let mut quantifiable = false;
    let mut depth = 0usize;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '\\' => {
                let Some(&n) = chars.get(i + 1) else {
                    return Err("it ends with a lone backslash".into());
                };
                out.push_str(&escape_outside(n)?);
                i += 2;
                quantifiable = true;
                continue;
            }
            '.' => {
                out.push_str(r"[\s\S]");
                quantifiable = true;
            }
            '^' | '$' | '|' => {
                out.push(c);
                quantifiable = false;
            }
            '(' => {
                if chars.get(i + 1) == Some(&'?') {
                    if chars.get(i + 2) != Some(&':') {
                        return Err("it uses a lookaround or embedded option ((?...)), which the dialects treat differently".into());
                    }
                    out.push_str("(?:");
                    i += 3;
                } else {
                    out.push('(');
                    i += 1;
                }
                depth += 1;
                quantifiable = false;
                continue;
            }
            ')' => {
                if depth == 0 {
                    return Err("it has an unmatched )".into());
                }
                depth -= 1;
                out.push(')');
                quantifiable = true;
            }
            '*' | '+' | '?' | '{' => {
                if !quantifiable {
                    return Err(format!("it has a quantifier {c} with nothing to repeat"));
                }
                if c == '{' {
                    let end = bound_end(&chars, i)
                        .ok_or("it has a { that is not a repetition bound {m}, {m,} or {m,n}")?;
                    out.extend(&chars[i..=end]);
                    i = end;
                } else {
                    out.push(c);
                }
                // A lazy quantifier: the same set of matching strings.
                if chars.get(i + 1) == Some(&'?') {
                    out.push('?');
                    i += 1;
                }
                quantifiable = false;
            }
            '[' => {
                i = bracket(&chars, i, &mut out)?;
                quantifiable = true;
                continue;
            }
            ']' | '}' => return Err(format!("it has a lone {c}, which ECMA (u mode) refuses")),
            _ => {
                out.push(c);
                quantifiable = true;
            }
        }
        i += 1;
    }
    if depth != 0 {
        return Err("it has an unclosed (".into());
    }
    Ok(out)
}

/// An escape outside brackets.
fn escape_outside(n: char) -> Result<String, String> {
    Ok(match n {
        'd' | 'D' | 's' | 'S' | 'n' | 't' | 'r' | 'f' | 'v' => format!("\\{n}"),
        'w' | 'W' => {
            return Err(format!(
                "\\{n} follows the database's locale in PostgreSQL and is ASCII in ECMA"
            ))
        }
        // PostgreSQL reads a backslash before anything that is not alphanumeric as
        // that character itself; ECMA in u mode only accepts escaped syntax characters.
        n if !n.is_alphanumeric() => literal(n),
        n => return Err(format!("the escape \\{n} has no ECMA equivalent")),
    })
}

/// A character meant literally, escaped if ECMA would read it as syntax.
fn literal(c: char) -> String {
    if ECMA_SYNTAX.contains(c) {
        format!("\\{c}")
    } else {
        c.to_string()
    }
}

/// Where a repetition bound starting at `chars[start] == '{'` ends (`}`), if it
/// is one: `{m}`, `{m,}` or `{m,n}`.
fn bound_end(chars: &[char], start: usize) -> Option<usize> {
    let mut i = start + 1;
    let digits = |i: &mut usize| {
        let from = *i;
        while chars.get(*i).is_some_and(char::is_ascii_digit) {
            *i += 1;
        }
        *i > from
    };
    if !digits(&mut i) {
        return None;
    }
    if chars.get(i) == Some(&',') {
        i += 1;
        digits(&mut i);
    }
    (chars.get(i) == Some(&'}')).then_some(i)
}

/// One item of a bracket expression.
#[derive(Clone, Copy, PartialEq)]
enum Item {
    /// A character that can be a range end.
    Char(char),
    /// A class escape (`\d`, `\s`, ...), which cannot.
    Class,
}

/// Translates the bracket expression starting at `chars[start] == '['`;
/// returns the index after its closing `]`.
fn bracket(chars: &[char], start: usize, out: &mut String) -> Result<usize, String> {
    let mut i = start + 1;
    out.push('[');
    if chars.get(i) == Some(&'^') {
        out.push('^');
        i += 1;
    }
    if chars.get(i) == Some(&']') {
        return Err(
            "a ] first in a bracket is a literal in PostgreSQL and closes the bracket in ECMA".into(),
        );
    }
    let mut items: Vec<Item> = Vec::new();
    let mut pending_range = false;
    loop {
        let Some(&c) = chars.get(i) else {
            return Err("it has an unclosed [".into());
        };
        let item = match c {
            ']' => break,
            '[' => {
                return Err(
                    "it uses [ inside a bracket (a class such as [:alpha:] or a collating element)".into(),
                )
            }
            '\\' => {
                let Some(&n) = chars.get(i + 1) else {
                    return Err("it ends with a lone backslash".into());
                };
                i += 1;
                match n {
                    'd' | 'D' | 's' | 'S' => {
                        out.push('\\');
                        out.push(n);
                        Item::Class
                    }
                    'n' | 't' | 'r' | 'f' | 'v' => {
                        out.push('\\');
                        out.push(n);
                        Item::Char(n)
                    }
                    'w' | 'W' => {
                        return Err(format!(
                            "\\{n} follows the database's locale in PostgreSQL and is ASCII in ECMA"
                        ))
                    }
                    n if !n.is_alphanumeric() => {
                        out.push_str(&class_literal(n));
                        Item::Char(n)
                    }
                    n => return Err(format!("the escape \\{n} has no ECMA equivalent")),
                }
            }
            '-' => {
                let next = chars.get(i + 1);
                if items.is_empty() || next == Some(&']') {
                    // First or last: a literal hyphen in both dialects.
                    out.push_str(r"\-");
                    items.push(Item::Char('-'));
                    i += 1;
                    continue;
                }
                if pending_range || !matches!(items.last(), Some(Item::Char(_))) {
                    return Err("it has a range whose ends are not single characters".into());
                }
                out.push('-');
                pending_range = true;
                i += 1;
                continue;
            }
            c => {
                out.push_str(&class_literal(c));
                Item::Char(c)
            }
        };
        if pending_range {
            let (Some(Item::Char(from)), Item::Char(to)) = (items.last().copied(), item) else {
                return Err("it has a range whose ends are not single characters".into());
            };
            if from > to {
                return Err("it has a range out of order".into());
            }
            pending_range = false;
            // A range end cannot start another range (`a-c-e`).
            items.push(Item::Class);
        } else {
            items.push(item);
        }
        i += 1;
    }
    out.push(']');
    Ok(i + 1)
}

/// A character meant literally inside ECMA brackets.
fn class_literal(c: char) -> String {
    if matches!(c, '\\' | ']' | '[' | '^' | '-') {
        format!("\\{c}")
    } else {
        c.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::to_ecma;

    #[test]
    fn portable_patterns_are_translated() {
        for (pg, ecma) in [
            (r"^[A-Z]{3}-\d{4}$", r"^[A-Z]{3}-\d{4}$"),
            ("^a.c$", r"^a[\s\S]c$"),
            (r"^(?:ab|cd)+?x*$", r"^(?:ab|cd)+?x*$"),
            (r"^[^@\s]+@[^@\s]+\.[^@\s]+$", r"^[^@\s]+@[^@\s]+\.[^@\s]+$"),
            (r"^https?://[^\s/?#]+[^\s]*$", r"^https?://[^\s/?#]+[^\s]*$"),
            (r"a\#b\-c", "a#b-c"),
            (r"[a-z0-9_-]", r"[a-z0-9_\-]"),
            (r"[-a]", r"[\-a]"),
            (r"[\]x]", r"[\]x]"),
            ("x{2,}y{1,3}", "x{2,}y{1,3}"),
            ("[é-ü]+", "[é-ü]+"),
            (r"^[^\\]+$", r"^[^\\]+$"),
        ] {
            assert_eq!(to_ecma(pg).as_deref(), Ok(ecma), "{pg}");
        }
    }

    #[test]
    fn patterns_outside_the_core_are_refused() {
        for pg in [
            r"\w+",
            r"[\w]",
            r"\bword\b",
            r"\mword\M",
            "[[:alpha:]]",
            "(a)\\1",
            "(?i)abc",
            "(?=a)b",
            "***:abc",
            "[]a]",
            "a]",
            "a}",
            "^*",
            "a{x}",
            "[a-c-e]",
            r"[\d-z]",
            "(a",
            "a)",
            "[ab",
            r"a\",
        ] {
            assert!(to_ecma(pg).is_err(), "{pg} should be refused");
        }
    }
}
