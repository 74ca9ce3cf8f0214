//! The statement that inserts a module's sample rows (docs/modules.md): one
//! row, as jsonb in `$1`, read into the table's row type, for the columns
//! the row names (the extension checks they are the table's columns first).
//! Columns it leaves out take their defaults (id, created_at, ...).

use crate::sql::{quote_ident_str, quote_qualified_str};

/// `INSERT INTO schema.table (cols) SELECT cols FROM jsonb_populate_record(NULL::schema.table, $1)`.
pub fn render_sample_insert(schema: &str, table: &str, columns: &[String]) -> String {
    let qualified = quote_qualified_str(schema, table);
    let cols: Vec<String> = columns.iter().map(|c| quote_ident_str(c)).collect();
    let cols = cols.join(", ");
    format!(
        "INSERT INTO {qualified} ({cols}) SELECT {cols} FROM pg_catalog.jsonb_populate_record(NULL::{qualified}, $1)"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_quoted() {
        assert_eq!(
            render_sample_insert("tenant_acme", "companies", &["name".into(), "Odd\"col".into()]),
            "INSERT INTO \"tenant_acme\".\"companies\" (\"name\", \"Odd\"\"col\") SELECT \"name\", \"Odd\"\"col\" \
             FROM pg_catalog.jsonb_populate_record(NULL::\"tenant_acme\".\"companies\", $1)"
        );
    }
}
