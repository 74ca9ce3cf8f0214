//! Counts in error messages: "1 row holds", "3 rows hold".

/// `n` and the noun phrase that agrees with it: `singular` for one,
/// `plural` for any other count ("0 rows", "1 row holds", "2 rows hold").
pub fn counted(n: impl Into<u64>, singular: &str, plural: &str) -> String {
    let n = n.into();
    format!("{n} {}", if n == 1 { singular } else { plural })
}

#[cfg(test)]
mod tests {
    use super::counted;

    #[test]
    fn one_is_singular_and_every_other_count_plural() {
        assert_eq!(counted(1u64, "row holds", "rows hold"), "1 row holds");
        assert_eq!(counted(0u64, "row", "rows"), "0 rows");
        assert_eq!(counted(2u32, "row breaks", "rows break"), "2 rows break");
    }
}
