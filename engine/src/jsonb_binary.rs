//! jsonb values written in PostgreSQL's binary format (`src/include/utils/jsonb.h`),
//! assembled from pieces that already are jsonb. `cot.query` places each
//! record its page statement built into the page document by copying the
//! record's bytes, where `jsonb_agg` and then `jsonb_build_object` would each
//! take every record apart into tokens and encode it again (bench/query.sh:
//! each pass cost about 30 µs on a 50-record page, a tenth of the page).
//! The format is PostgreSQL's on-disk one, which pg_upgrade keeps unchanged
//! across major versions.
//!
//! A container is a header word (child count and a kind flag), one JEntry
//! word per child (objects: every key, then every value, keys sorted by
//! length and then by bytes), then the children's data in the same order. A
//! JEntry holds the child's type and, for every 32nd child, the end offset of
//! its data in the container's data area, for the others the data's length.
//! Numerics and containers start at a 4-byte boundary; the padding before
//! them counts as part of their length. Words are in the machine's byte order.

use crate::error::{CotError, ErrorKind};

const JENTRY_OFFLENMASK: u32 = 0x0FFF_FFFF;
const JENTRY_TYPEMASK: u32 = 0x7000_0000;
const JENTRY_HAS_OFF: u32 = 0x8000_0000;
const JENTRY_ISSTRING: u32 = 0x0000_0000;
const JENTRY_ISNUMERIC: u32 = 0x1000_0000;
const JENTRY_ISBOOL_FALSE: u32 = 0x2000_0000;
const JENTRY_ISBOOL_TRUE: u32 = 0x3000_0000;
const JENTRY_ISNULL: u32 = 0x4000_0000;
const JENTRY_ISCONTAINER: u32 = 0x5000_0000;
const JB_OFFSET_STRIDE: usize = 32;
const JB_CMASK: u32 = 0x0FFF_FFFF;
const JB_FSCALAR: u32 = 0x1000_0000;
const JB_FOBJECT: u32 = 0x2000_0000;
const JB_FARRAY: u32 = 0x4000_0000;

/// One value to place in a container.
#[derive(Debug, Clone, Copy)]
pub enum Item<'a> {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A string, in the database encoding (as jsonb holds strings).
    String(&'a [u8]),
    /// A number: a `numeric` as PostgreSQL holds it in memory, its 4-byte
    /// varlena header included.
    Numeric(&'a [u8]),
    /// A whole jsonb value: its root container, the varlena's data without
    /// the header. A scalar root (`'"x"'::jsonb`) is placed as the scalar.
    Jsonb(&'a [u8]),
}

fn word(bytes: &[u8], at: usize) -> u32 {
    let mut w = [0u8; 4];
    w.copy_from_slice(&bytes[at..at + 4]);
    u32::from_ne_bytes(w)
}

fn too_large() -> CotError {
    CotError::new(
        ErrorKind::ProgramLimit,
        "the answer is too large for a jsonb value (more than 255 MB in one array or object)",
    )
    .hint("ask for fewer records (\"limit\") or fewer fields (\"select\")")
}

/// The children of a container being built.
#[derive(Default)]
struct Children {
    entries: Vec<u32>,
    data: Vec<u8>,
}

impl Children {
    fn pad(&mut self) {
        while !self.data.len().is_multiple_of(4) {
            self.data.push(0);
        }
    }

    /// Appends a child of type `kind` whose data is `bytes` (aligned first
    /// when `aligned`).
    fn child(&mut self, kind: u32, bytes: &[u8], aligned: bool) -> Result<(), CotError> {
        let start = self.data.len();
        if aligned {
            self.pad();
        }
        self.data.extend_from_slice(bytes);
        let (len, end) = (self.data.len() - start, self.data.len());
        if end > JENTRY_OFFLENMASK as usize {
            return Err(too_large());
        }
        let field = if self.entries.len().is_multiple_of(JB_OFFSET_STRIDE) {
            JENTRY_HAS_OFF | end as u32
        } else {
            len as u32
        };
        self.entries.push(kind | field);
        Ok(())
    }

    fn push(&mut self, item: Item<'_>) -> Result<(), CotError> {
        match item {
            Item::Null => self.child(JENTRY_ISNULL, &[], false),
            Item::Bool(true) => self.child(JENTRY_ISBOOL_TRUE, &[], false),
            Item::Bool(false) => self.child(JENTRY_ISBOOL_FALSE, &[], false),
            Item::String(s) => self.child(JENTRY_ISSTRING, s, false),
            Item::Numeric(n) => self.child(JENTRY_ISNUMERIC, n, true),
            Item::Jsonb(root) => {
                let header = word(root, 0);
                if header & JB_FSCALAR == 0 {
                    return self.child(JENTRY_ISCONTAINER, root, true);
                }
                // A raw scalar is stored as a one-element array flagged
                // scalar: its element's entry at 4, its data at 8 (aligned,
                // so a numeric there has no padding before it).
                let entry = word(root, 4);
                let kind = entry & JENTRY_TYPEMASK;
                let data = &root[8..8 + (entry & JENTRY_OFFLENMASK) as usize];
                self.child(kind, data, kind == JENTRY_ISNUMERIC)
            }
        }
    }

    fn finish(self, header: u32) -> Vec<u8> {
        let mut out = Vec::with_capacity(4 + 4 * self.entries.len() + self.data.len());
        out.extend_from_slice(&header.to_ne_bytes());
        for e in &self.entries {
            out.extend_from_slice(&e.to_ne_bytes());
        }
        out.extend_from_slice(&self.data);
        out
    }
}

/// A jsonb array built one element at a time.
#[derive(Default)]
pub struct ArrayBuilder {
    children: Children,
}

impl ArrayBuilder {
    /// An empty array.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends `item`.
    pub fn push(&mut self, item: Item<'_>) -> Result<(), CotError> {
        if self.children.entries.len() >= JB_CMASK as usize {
            return Err(too_large());
        }
        self.children.push(item)
    }

    /// The array's container bytes.
    pub fn finish(self) -> Vec<u8> {
        let count = self.children.entries.len() as u32;
        self.children.finish(JB_FARRAY | count)
    }
}

/// A jsonb object's container bytes. Keys are sorted as jsonb sorts them
/// (shorter first, then by bytes); a key given twice keeps its last value,
/// as `jsonb_build_object` does.
pub fn object(pairs: &[(&str, Item<'_>)]) -> Result<Vec<u8>, CotError> {
    let mut sorted: Vec<(&str, Item<'_>)> = Vec::with_capacity(pairs.len());
    for (k, v) in pairs {
        match sorted.iter_mut().find(|(s, _)| s == k) {
            Some(existing) => existing.1 = *v,
            None => sorted.push((k, *v)),
        }
    }
    sorted.sort_by(|a, b| a.0.len().cmp(&b.0.len()).then(a.0.as_bytes().cmp(b.0.as_bytes())));
    let mut children = Children::default();
    for (k, _) in &sorted {
        children.push(Item::String(k.as_bytes()))?;
    }
    for (_, v) in &sorted {
        children.push(*v)?;
    }
    Ok(children.finish(JB_FOBJECT | sorted.len() as u32))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    /// Reads a container back, checking every entry's offset against the
    /// running sum of lengths and the alignment of numerics and containers.
    /// Numerics read as "numeric:" and their bytes in hex.
    fn read(c: &[u8]) -> Value {
        let header = word(c, 0);
        let n = (header & JB_CMASK) as usize;
        let object = header & JB_FOBJECT != 0;
        let entries = if object { 2 * n } else { n };
        let base = 4 + 4 * entries;
        let mut end = 0usize;
        let mut values = Vec::new();
        for i in 0..entries {
            let e = word(c, 4 + 4 * i);
            let start = end;
            end = if e & JENTRY_HAS_OFF != 0 {
                assert_eq!(i % JB_OFFSET_STRIDE, 0, "offset on entry {i}");
                (e & JENTRY_OFFLENMASK) as usize
            } else {
                assert_ne!(i % JB_OFFSET_STRIDE, 0, "length on entry {i}");
                start + (e & JENTRY_OFFLENMASK) as usize
            };
            let aligned = |s: usize| base + s.div_ceil(4) * 4;
            let v = match e & JENTRY_TYPEMASK {
                JENTRY_ISNULL => Value::Null,
                JENTRY_ISBOOL_TRUE => Value::Bool(true),
                JENTRY_ISBOOL_FALSE => Value::Bool(false),
                JENTRY_ISSTRING => {
                    Value::String(String::from_utf8(c[base + start..base + end].to_vec()).unwrap())
                }
                JENTRY_ISNUMERIC => {
                    let bytes = &c[aligned(start)..base + end];
                    Value::String(format!(
                        "numeric:{}",
                        bytes.iter().map(|b| format!("{b:02x}")).collect::<String>()
                    ))
                }
                JENTRY_ISCONTAINER => read(&c[aligned(start)..base + end]),
                other => panic!("unknown entry type {other:#x}"),
            };
            values.push(v);
        }
        assert_eq!(base + end, c.len(), "the data area ends where the container does");
        if object {
            let keys: Vec<String> = values[..n]
                .iter()
                .map(|k| k.as_str().unwrap().to_string())
                .collect();
            let mut sorted = keys.clone();
            sorted.sort_by(|a, b| a.len().cmp(&b.len()).then(a.cmp(b)));
            assert_eq!(keys, sorted, "keys in jsonb order");
            Value::Object(keys.into_iter().zip(values[n..].iter().cloned()).collect())
        } else {
            Value::Array(values)
        }
    }

    fn words(ws: &[u32]) -> Vec<u8> {
        ws.iter().flat_map(|w| w.to_ne_bytes()).collect()
    }

    #[test]
    fn a_small_object_is_byte_for_byte_what_postgres_writes() {
        // '{"a": [true, null, "xy"]}'::jsonb: pg_column_size 38 = 4 + 34.
        let mut arr = ArrayBuilder::new();
        arr.push(Item::Bool(true)).unwrap();
        arr.push(Item::Null).unwrap();
        arr.push(Item::String(b"xy")).unwrap();
        let arr = arr.finish();
        assert_eq!(
            arr,
            [
                words(&[0x4000_0003, 0xB000_0000, 0x4000_0000, 0x0000_0002]),
                b"xy".to_vec()
            ]
            .concat()
        );
        let obj = object(&[("a", Item::Jsonb(&arr))]).unwrap();
        let expected = [
            words(&[0x2000_0001, 0x8000_0001, 0x5000_0000 | (3 + 18)]),
            b"a\0\0\0".to_vec(),
            arr.clone(),
        ]
        .concat();
        assert_eq!(obj, expected);
        assert_eq!(obj.len() + 4, 38);
        assert_eq!(read(&obj), json!({"a": [true, null, "xy"]}));
        // Empty containers: pg_column_size('[]'::jsonb) = pg_column_size('{}'::jsonb) = 8.
        assert_eq!(ArrayBuilder::new().finish(), words(&[0x4000_0000]));
        assert_eq!(object(&[]).unwrap(), words(&[0x2000_0000]));
    }

    #[test]
    fn keys_sort_as_jsonb_sorts_them() {
        let obj = object(&[
            ("next_cursor", Item::Null),
            ("data", Item::Bool(true)),
            ("count", Item::String(b"1")),
            ("b", Item::Null),
            ("a", Item::Null),
            ("b", Item::Bool(false)),
        ])
        .unwrap();
        let v = read(&obj);
        let keys: Vec<&String> = v.as_object().unwrap().keys().collect();
        assert_eq!(keys.len(), 5);
        assert_eq!(v["b"], json!(false), "a repeated key keeps its last value");
        // read() asserts the stored order; serde's map is sorted its own way.
        assert_eq!(word(&obj, 0), JB_FOBJECT | 5);
    }

    #[test]
    fn long_arrays_store_an_offset_every_32_entries() {
        let inner = object(&[("k", Item::String(b"v"))]).unwrap();
        let numeric = [0x20u8, 0, 0, 0, 0x00, 0x80, 0x01, 0x00]; // a 4-byte header, then digits
        let mut arr = ArrayBuilder::new();
        let mut expected = Vec::new();
        for i in 0..100 {
            match i % 4 {
                0 => {
                    arr.push(Item::Jsonb(&inner)).unwrap();
                    expected.push(json!({"k": "v"}));
                }
                1 => {
                    arr.push(Item::String(format!("s{i}").as_bytes())).unwrap();
                    expected.push(json!(format!("s{i}")));
                }
                2 => {
                    arr.push(Item::Numeric(&numeric)).unwrap();
                    expected.push(json!("numeric:2000000000800100"));
                }
                _ => {
                    arr.push(Item::Bool(i % 8 == 3)).unwrap();
                    expected.push(json!(i % 8 == 3));
                }
            }
        }
        let bytes = arr.finish();
        assert_eq!(read(&bytes), Value::Array(expected));
        for i in [0usize, 32, 64, 96] {
            assert_ne!(word(&bytes, 4 + 4 * i) & JENTRY_HAS_OFF, 0, "entry {i}");
        }
    }

    #[test]
    fn a_scalar_root_is_placed_as_its_scalar() {
        // '"ab"'::jsonb: an array of one element flagged scalar (14 = 4 + 10 bytes).
        let string_root = [
            words(&[JB_FARRAY | JB_FSCALAR | 1, JENTRY_HAS_OFF | 2]),
            b"ab".to_vec(),
        ]
        .concat();
        let numeric = [0x20u8, 0, 0, 0, 0x00, 0x80, 0x01, 0x00];
        let numeric_root = [
            words(&[JB_FARRAY | JB_FSCALAR | 1, JENTRY_HAS_OFF | JENTRY_ISNUMERIC | 8]),
            numeric.to_vec(),
        ]
        .concat();
        let null_root = words(&[JB_FARRAY | JB_FSCALAR | 1, JENTRY_HAS_OFF | JENTRY_ISNULL]);
        let obj = object(&[
            ("s", Item::Jsonb(&string_root)),
            ("nn", Item::Jsonb(&numeric_root)),
            ("nul", Item::Jsonb(&null_root)),
        ])
        .unwrap();
        assert_eq!(
            read(&obj),
            json!({"s": "ab", "nn": "numeric:2000000000800100", "nul": null})
        );
    }
}
