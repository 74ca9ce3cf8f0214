//! Every query Cot runs against its meta-tables and the system catalogs, one
//! file per subject. Values are always SPI parameters; the SQL text here is
//! fixed. The SPI plumbing they share is in `crate::spi`.

pub mod api_keys;
pub mod ledger;
pub mod meta;
pub mod roles;
pub mod system;
